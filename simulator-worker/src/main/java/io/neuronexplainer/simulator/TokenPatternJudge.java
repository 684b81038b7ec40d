package io.neuronexplainer.simulator;

import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The offline judge (no network, no model): reads a token-pattern explanation as
 * {@link TokenPatternSimulator} does, predicts each excerpt token's 0-10 activation from it, and
 * answers from those predictions.
 *
 * <p>Detection: yes when some token is predicted at or above {@link #activatingLevel}; the
 * probability is the excerpt's highest prediction / 10, so detection has an AUROC offline too.
 * Fuzzing: yes when the marked tokens are predicted, on average, at least {@link #FUZZING_MARGIN}
 * above the unmarked ones; the probability maps that lift from [-10, 10] onto [0, 1].
 */
public final class TokenPatternJudge implements Judge {
    public static final String METHOD = "token-pattern-judge";
    /**
     * Where "activates" starts, as a share of the way from the explanation's level elsewhere to
     * the top of the 0-10 scale: the half-of-peak rule {@code ActivatingTokens} uses for the truth,
     * measured from the explanation's baseline, so a token listed only slightly above it (the
     * explainer lists lifts from 0.1) does not make a quiet random window a yes.
     */
    static final double ACTIVATING_SHARE = 0.5;
    /**
     * How much higher (0-10 scale) the marked tokens must be predicted than the rest to be "the
     * activating ones": a tenth of the scale, the gain the explainer itself asks of a context
     * before it lists it (TokenPatternExplainer.MIN_CONTEXT_GAIN), so noise-level lifts are no.
     */
    static final double FUZZING_MARGIN = 1.0;

    @Override
    public String method() {
        return METHOD;
    }

    @Override
    public String model() {
        return "none";
    }

    @Override
    public CompletableFuture<JudgeResult> judge(SimulationRequest request) {
        try {
            TokenPatternSimulator.Patterns patterns = TokenPatternSimulator.Patterns.parse(request.getExplanationText());
            boolean fuzzing = switch (request.getScorerKind()) {
                case Identities.DETECTION_SCORER -> false;
                case Identities.FUZZING_SCORER -> true;
                default -> throw new IllegalArgumentException(METHOD + " judges detection and fuzzing, not '"
                        + request.getScorerKind() + "'");
            };
            List<Judgement> out = new ArrayList<>(request.getExcerpts().size());
            for (Excerpt e : request.getExcerpts()) {
                List<Float> predicted = patterns.predict(e.getTokens());
                out.add(fuzzing ? fuzzing(e, predicted, patterns.elsewhere()) : detection(e, predicted, patterns.elsewhere()));
            }
            return CompletableFuture.completedFuture(new JudgeResult(out, 0, 0));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The predicted level (0-10) at which a token counts as activating, for an explanation's level elsewhere. */
    static double activatingLevel(double elsewhere) {
        return elsewhere + ACTIVATING_SHARE * (10 - elsewhere);
    }

    static Judgement detection(Excerpt e, List<Float> predicted, double elsewhere) {
        double max = 0;
        for (Float p : predicted) {
            max = Math.max(max, p);
        }
        return new Judgement(e.getWindowIndex(), e.getMarked(), max >= activatingLevel(elsewhere), max / 10);
    }

    /**
     * The marked tokens' mean prediction minus the unmarked ones' (the explanation's level
     * elsewhere when every token is marked); no marks is no lift.
     */
    static Judgement fuzzing(Excerpt e, List<Float> predicted, double elsewhere) {
        Set<Integer> marked = new HashSet<>(e.getMarked());
        double in = 0;
        double out = 0;
        int nIn = 0;
        int nOut = 0;
        for (int i = 0; i < predicted.size(); i++) {
            if (marked.contains(i)) {
                in += predicted.get(i);
                nIn++;
            } else {
                out += predicted.get(i);
                nOut++;
            }
        }
        double lift = nIn == 0 ? 0 : in / nIn - (nOut == 0 ? elsewhere : out / nOut);
        return new Judgement(e.getWindowIndex(), e.getMarked(), lift >= FUZZING_MARGIN, (lift + 10) / 20);
    }
}
