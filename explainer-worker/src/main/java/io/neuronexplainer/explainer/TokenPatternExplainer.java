package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The offline baseline explainer (no network, no model): lists the tokens the neuron fires on,
 * the two-token contexts that fire more than their last token alone, the tokens whose
 * successor fires, and frequent tokens it stays quiet on, each with its mean strength on the
 * prompts' 0-10 scale, plus the level elsewhere. The text is readable and is all {@code TokenPatternSimulator} gets.
 *
 * <p>Grammar (the simulator parses it back): {@code  the tokens "A" (9), "B" (4.5); "C" after
 * "D" (7); the token after "E" (3); hardly on "the" (0.1), "of" (0); elsewhere about 0.2.}
 * Every {@code "token" (level)} not part of an "after" rule is a token's predicted level.
 * Tokens are compared trimmed and lower-cased; quotes, backslashes and control characters
 * inside them are backslash-escaped.
 */
public final class TokenPatternExplainer implements Explainer {
    public static final String METHOD = "token-pattern-baseline";
    public static final String PROMPT_VERSION = "token-pattern-v1";

    // Limits and thresholds chosen on 72 neurons of the demo GPT-2 (held-out text, 5 explanation
    // top windows, scoring on 5 other top + 5 random windows; the same neurons, so in-sample):
    // mean correlation 0.358 first, 0.385 listing more tokens and contexts, 0.397 with the quiet
    // tokens (and the simulator's case rule). The context rules add about 0.01.

    /** Pseudo-count pulling a pattern's mean towards its fallback, so one lucky token does not dominate. */
    static final double PRIOR_WEIGHT = 0.25;
    static final int MAX_TOKENS = 40;
    static final int MAX_CONTEXTS = 20;
    static final int MAX_AFTER = 5;
    /** How far above the neuron's mean a token must fire to be listed (0-10 scale). */
    static final double MIN_LIFT = 0.1;
    static final double MIN_CONTEXT_GAIN = 1.0;
    static final double MIN_AFTER_LIFT = 1.5;
    /** Frequent tokens (seen at least MIN_QUIET_COUNT times) below QUIET_SHARE of "elsewhere" are listed as quiet. */
    static final int MAX_QUIET = 20;
    static final int MIN_QUIET_COUNT = 2;
    static final double QUIET_SHARE = 0.5;

    @Override
    public String method() {
        return METHOD;
    }

    @Override
    public String model() {
        return "none";
    }

    @Override
    public String promptVersion() {
        return PROMPT_VERSION;
    }

    @Override
    public CompletableFuture<ExplainerResult> explain(NeuronActivations neuron) {
        try {
            String text = explain(neuron.getExplanationWindows());
            return CompletableFuture.completedFuture(new ExplainerResult(text, PROMPT_VERSION, 0, 0));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The explanation of these windows (completes "the main thing this neuron does is find"). */
    public static String explain(List<ActivationWindow> windows) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("a neuron with no explanation windows cannot be explained");
        }
        ActivationScale scale = ActivationScale.over(windows);
        Map<String, Stat> unigrams = new HashMap<>();
        Map<String, Stat> bigrams = new HashMap<>();
        Map<String, Map<String, Integer>> surface = new HashMap<>();
        double sum = 0;
        long count = 0;
        for (ActivationWindow w : windows) {
            List<String> tokens = w.getTokens();
            List<Float> acts = w.getActivations();
            String prev = null;
            for (int i = 0; i < tokens.size() && i < acts.size(); i++) {
                double v = level(scale, acts.get(i));
                String key = key(tokens.get(i));
                unigrams.computeIfAbsent(key, k -> new Stat()).add(v);
                surface.computeIfAbsent(key, k -> new HashMap<>()).merge(display(tokens.get(i)), 1, Integer::sum);
                if (prev != null) {
                    bigrams.computeIfAbsent(prev + '\u0000' + key, k -> new Stat()).add(v);
                }
                sum += v;
                count++;
                prev = key;
            }
        }
        if (count == 0 || scale.maxActivation() <= 0) {
            return " no token in particular (it did not fire on its explanation windows); elsewhere about 0.";
        }
        double mean = sum / count;

        List<Pattern> tokens = new ArrayList<>();
        for (Map.Entry<String, Stat> e : unigrams.entrySet()) {
            double m = e.getValue().shrunk(mean);
            if (m - mean >= MIN_LIFT) {
                tokens.add(new Pattern(e.getKey(), null, m, e.getValue().n));
            }
        }
        tokens.sort(Comparator.comparingDouble((Pattern p) -> -p.value * Math.sqrt(p.n)));
        if (tokens.size() > MAX_TOKENS) {
            tokens = new ArrayList<>(tokens.subList(0, MAX_TOKENS));
        }
        tokens.sort(Comparator.comparingDouble((Pattern p) -> -p.value));
        Map<String, Double> listed = new HashMap<>();
        for (Pattern p : tokens) {
            listed.put(p.key, p.value);
        }

        List<Pattern> contexts = new ArrayList<>();
        for (Map.Entry<String, Stat> e : bigrams.entrySet()) {
            String[] parts = e.getKey().split("\u0000", 2);
            // Compared with what the simulator would predict without the context.
            double without = listed.getOrDefault(parts[1], mean);
            double m = e.getValue().shrunk(unigrams.get(parts[1]).shrunk(mean));
            if (Math.abs(m - without) >= MIN_CONTEXT_GAIN && m - mean >= MIN_LIFT && e.getValue().n >= 1) {
                contexts.add(new Pattern(parts[1], parts[0], m, e.getValue().n));
            }
        }
        contexts.sort(Comparator.comparingDouble((Pattern p) -> -Math.abs(p.value - listed.getOrDefault(p.key, mean))
                * Math.sqrt(p.n)));
        if (contexts.size() > MAX_CONTEXTS) {
            contexts = new ArrayList<>(contexts.subList(0, MAX_CONTEXTS));
        }

        // "The token after X" rules only for what listed tokens do not already explain: the
        // successors of X that are not listed themselves.
        Map<String, Stat> after = new HashMap<>();
        for (ActivationWindow w : windows) {
            List<String> toks = w.getTokens();
            for (int i = 1; i < toks.size() && i < w.getActivations().size(); i++) {
                String key = key(toks.get(i));
                if (!listed.containsKey(key)) {
                    after.computeIfAbsent(key(toks.get(i - 1)), k -> new Stat()).add(level(scale, w.getActivations().get(i)));
                }
            }
        }
        List<Pattern> afters = new ArrayList<>();
        for (Map.Entry<String, Stat> e : after.entrySet()) {
            double m = e.getValue().shrunk(mean);
            if (e.getValue().n >= 2 && m - mean >= MIN_AFTER_LIFT) {
                afters.add(new Pattern(null, e.getKey(), m, e.getValue().n));
            }
        }
        afters.sort(Comparator.comparingDouble((Pattern p) -> -p.value * Math.sqrt(p.n)));
        if (afters.size() > MAX_AFTER) {
            afters = new ArrayList<>(afters.subList(0, MAX_AFTER));
        }

        // "Elsewhere": the mean over tokens none of the listed tokens covers.
        Set<String> covered = new HashSet<>(listed.keySet());
        double restSum = 0;
        long restN = 0;
        for (Map.Entry<String, Stat> e : unigrams.entrySet()) {
            if (!covered.contains(e.getKey())) {
                restSum += e.getValue().sum;
                restN += e.getValue().n;
            }
        }
        double elsewhere = restN == 0 ? 0 : restSum / restN;
        // Frequent tokens that stay below that level: listed too, so that they are predicted lower
        // than tokens never seen.
        List<Pattern> quiet = new ArrayList<>();
        for (Map.Entry<String, Stat> e : unigrams.entrySet()) {
            Stat st = e.getValue();
            if (!covered.contains(e.getKey()) && st.n >= MIN_QUIET_COUNT && st.sum / st.n < QUIET_SHARE * elsewhere) {
                quiet.add(new Pattern(e.getKey(), null, st.sum / st.n, st.n));
            }
        }
        quiet.sort(Comparator.comparingInt((Pattern p) -> -p.n));
        if (quiet.size() > MAX_QUIET) {
            quiet = new ArrayList<>(quiet.subList(0, MAX_QUIET));
        }
        if (!quiet.isEmpty()) {
            restSum = 0;
            restN = 0;
            Set<String> quietKeys = new HashSet<>();
            quiet.forEach(q -> quietKeys.add(q.key));
            for (Map.Entry<String, Stat> e : unigrams.entrySet()) {
                if (!covered.contains(e.getKey()) && !quietKeys.contains(e.getKey())) {
                    restSum += e.getValue().sum;
                    restN += e.getValue().n;
                }
            }
            elsewhere = restN == 0 ? elsewhere : restSum / restN;
        }

        StringBuilder sb = new StringBuilder();
        if (tokens.isEmpty()) {
            sb.append(" no single token in particular");
        } else {
            sb.append(" the tokens ");
            for (int i = 0; i < tokens.size(); i++) {
                Pattern p = tokens.get(i);
                sb.append(i == 0 ? "" : ", ").append(quote(mostCommon(surface.get(p.key))))
                        .append(" (").append(number(p.value)).append(')');
            }
        }
        for (Pattern p : contexts) {
            sb.append("; ").append(quote(mostCommon(surface.get(p.key)))).append(" after ")
                    .append(quote(mostCommon(surface.get(p.context)))).append(" (").append(number(p.value)).append(')');
        }
        for (Pattern p : afters) {
            sb.append("; the token after ").append(quote(mostCommon(surface.get(p.context))))
                    .append(" (").append(number(p.value)).append(')');
        }
        for (int i = 0; i < quiet.size(); i++) {
            Pattern p = quiet.get(i);
            sb.append(i == 0 ? "; hardly on " : ", ").append(quote(mostCommon(surface.get(p.key))))
                    .append(" (").append(number(p.value)).append(')');
        }
        sb.append("; elsewhere about ").append(number(elsewhere)).append('.');
        return sb.toString();
    }

    /** The 0-10 level without the prompts' flooring: the baseline keeps the precision. */
    static double level(ActivationScale scale, Float a) {
        if (a == null || !(a > 0) || !(scale.maxActivation() > 0)) {
            return 0;
        }
        return Math.min(10, 10 * a / scale.maxActivation());
    }

    /** How tokens are compared: trimmed and lower-cased; whitespace-only tokens as they are. */
    public static String key(String token) {
        String t = token.strip();
        return t.isEmpty() ? token : t.toLowerCase(Locale.ROOT);
    }

    private static String display(String token) {
        String t = token.strip();
        return t.isEmpty() ? token : t;
    }

    private static String mostCommon(Map<String, Integer> forms) {
        // The most frequent surface form; ties broken by the smallest string, for stable text.
        String best = null;
        int bestCount = -1;
        for (Map.Entry<String, Integer> e : forms.entrySet()) {
            if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey().compareTo(best) < 0)) {
                best = e.getKey();
                bestCount = e.getValue();
            }
        }
        return best;
    }

    static String quote(String token) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    static String number(double v) {
        double r = Math.round(v * 10) / 10.0;
        return r == Math.rint(r) ? Long.toString((long) r) : Double.toString(r);
    }

    private record Pattern(String key, String context, double value, int n) {}

    /** Count and sum of levels, with a mean shrunk towards a fallback. */
    private static final class Stat {
        int n;
        double sum;

        void add(double v) {
            n++;
            sum += v;
        }

        double shrunk(double fallback) {
            return (sum + PRIOR_WEIGHT * fallback) / (n + PRIOR_WEIGHT);
        }
    }
}
