package io.neuronexplainer.watcher.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.watcher.CheckpointCandidate;
import io.neuronexplainer.watcher.CheckpointRejectedException;
import io.neuronexplainer.watcher.CheckpointSource;
import io.neuronexplainer.watcher.CheckpointStep;
import io.neuronexplainer.watcher.CheckpointValidator;
import io.neuronexplainer.watcher.LocalCheckpoint;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints published as branches of a Hugging Face Hub model repository (Pythia's
 * {@code step1000}, OLMo's {@code step1000-tokens4B}), each pinned to its branch's commit and
 * downloaded into a local cache only once its {@code config.json} shows a model the producer runs.
 */
public final class HubSource implements CheckpointSource {
    static final String CONFIG = "config.json";
    static final String WEIGHTS = "model.safetensors";
    static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    static final String PYTORCH_WEIGHTS = "pytorch_model.bin";
    static final String MAIN = "main";
    /** Transfers that break off are resumed this many times within one fetch before it fails. */
    private static final int DOWNLOAD_ATTEMPTS = 3;

    private static final Logger log = LoggerFactory.getLogger(HubSource.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HubClient client;
    private final String repo;
    private final Pattern revisionPattern;
    private final Path repoCache;
    private final Path tokenizerOverride;
    /** Commit sha to the step its training_state.json gives (empty: none); a commit's content never changes. */
    private final Map<String, Optional<Long>> stepsByCommit = new ConcurrentHashMap<>();

    /**
     * @param repo the model repository, {@code ORG/NAME}
     * @param revisionPattern finds the step in a branch name; its first group holds the digits
     * @param cacheDir where downloads go, under {@code ORG--NAME/}
     * @param tokenizerOverride the tokenizer.json to use when a revision has none (null: the {@code main} branch's)
     */
    public HubSource(HubClient client, String repo, Pattern revisionPattern, Path cacheDir, Path tokenizerOverride) {
        if (repo == null || !repo.matches("[^/\\s]+/[^/\\s]+")) {
            throw new IllegalArgumentException("Hub repository " + repo + " is not ORG/NAME");
        }
        this.client = client;
        this.repo = repo;
        this.revisionPattern = revisionPattern;
        this.repoCache = cacheDir.resolve(repo.replace("/", "--"));
        this.tokenizerOverride = tokenizerOverride;
    }

    @Override
    public List<CheckpointCandidate> list() throws IOException {
        List<CheckpointCandidate> candidates = new ArrayList<>();
        for (HubBranch branch : client.refs(repo)) {
            if (branch.isPullRequest()) {
                continue;
            }
            Long step = CheckpointStep.fromName(branch.name(), revisionPattern);
            if (step == null) {
                step = trainingStateStep(branch.targetCommit());
            }
            candidates.add(new CheckpointCandidate(branch.name(), step, branch.targetCommit()));
        }
        candidates.sort(Comparator.comparing(CheckpointCandidate::step, Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(CheckpointCandidate::name));
        return candidates;
    }

    @Override
    public LocalCheckpoint fetch(CheckpointCandidate candidate) throws IOException, CheckpointRejectedException {
        String commit = candidate.revision();
        String where = repo + "@" + candidate.name() + " (" + shortSha(commit) + ")";
        Map<String, HubFile> files = new LinkedHashMap<>();
        for (HubFile f : client.tree(repo, commit)) {
            files.put(f.path(), f);
        }
        Path folder = repoCache.resolve(safeName(candidate.name()) + "-" + shortSha(commit));

        // The config decides whether the checkpoint can run at all; nothing heavy is fetched before it passes.
        HubFile config = files.get(CONFIG);
        if (config == null) {
            throw new CheckpointRejectedException(where + " has no " + CONFIG);
        }
        download(config, commit, folder);
        CheckpointValidator.checkConfig(folder.resolve(CONFIG));

        List<HubFile> weights = weights(files, commit, folder, where);
        log.info("Fetching {} into {} ({} MB of weights)", where, folder,
                weights.stream().mapToLong(HubFile::size).sum() >> 20);
        for (HubFile w : weights) {
            download(w, commit, folder);
        }
        HubFile state = files.get(CheckpointStep.TRAINING_STATE);
        if (state != null) {
            download(state, commit, folder);
        }
        Path tokenizer = tokenizer(files.get(Gpt2Tokenizer.FILE_NAME), commit, folder, where);
        CheckpointValidator.check(folder, tokenizer);
        return new LocalCheckpoint(candidate, folder, tokenizer, true);
    }

    @Override
    public String describe() {
        return "hub " + repo + " at " + client.endpoint();
    }

    private Long trainingStateStep(String commit) throws IOException {
        Optional<Long> known = stepsByCommit.get(commit);
        if (known != null) {
            return known.orElse(null);
        }
        Long step;
        try {
            step = CheckpointStep.fromTrainingState(client.readText(repo, commit, CheckpointStep.TRAINING_STATE));
        } catch (HubHttpException e) {
            if (e.status() != 404) {
                throw e; // not cached: the next poll asks again
            }
            step = null;
        }
        stepsByCommit.put(commit, Optional.ofNullable(step));
        return step;
    }

    /** The weight files to download: the single safetensors file, or the index and every shard it names. */
    private List<HubFile> weights(Map<String, HubFile> files, String commit, Path folder, String where)
            throws IOException, CheckpointRejectedException {
        if (files.containsKey(WEIGHTS)) {
            return List.of(files.get(WEIGHTS));
        }
        HubFile index = files.get(WEIGHTS_INDEX);
        if (index == null) {
            throw new CheckpointRejectedException(where + (files.containsKey(PYTORCH_WEIGHTS)
                    ? " has only " + PYTORCH_WEIGHTS + "; safetensors weights (" + WEIGHTS + ") are needed"
                    : " has no " + WEIGHTS + " (nor " + WEIGHTS_INDEX + ")"));
        }
        download(index, commit, folder);
        TreeSet<String> shards = new TreeSet<>();
        try {
            JsonNode map = JSON.readTree(folder.resolve(WEIGHTS_INDEX).toFile()).path("weight_map");
            map.elements().forEachRemaining(v -> shards.add(v.asText()));
        } catch (IOException e) {
            throw new CheckpointRejectedException(where + ": " + WEIGHTS_INDEX + " is not readable JSON");
        }
        if (shards.isEmpty()) {
            throw new CheckpointRejectedException(where + ": " + WEIGHTS_INDEX + " lists no shard in its weight_map");
        }
        List<String> missing = shards.stream().filter(s -> !files.containsKey(s)).toList();
        if (!missing.isEmpty()) {
            throw new CheckpointRejectedException(where + " lacks shard(s) " + String.join(", ", missing) + " named by " + WEIGHTS_INDEX);
        }
        List<HubFile> list = new ArrayList<>();
        list.add(index);
        shards.forEach(s -> list.add(files.get(s)));
        return list;
    }

    /** The revision's own tokenizer, else the override, else the {@code main} branch's (fetched once per repository). */
    private Path tokenizer(HubFile own, String commit, Path folder, String where) throws IOException, CheckpointRejectedException {
        if (own != null) {
            download(own, commit, folder);
            return folder.resolve(own.path());
        }
        if (tokenizerOverride != null) {
            return tokenizerOverride;
        }
        Path shared = repoCache.resolve(Gpt2Tokenizer.FILE_NAME);
        if (Files.isRegularFile(shared)) {
            return shared;
        }
        HubFile onMain;
        try {
            onMain = client.tree(repo, MAIN).stream().filter(f -> f.path().equals(Gpt2Tokenizer.FILE_NAME)).findFirst().orElse(null);
        } catch (HubHttpException e) {
            if (e.status() != 404) {
                throw e;
            }
            onMain = null;
        }
        if (onMain == null) {
            throw new CheckpointRejectedException(where + " has no " + Gpt2Tokenizer.FILE_NAME
                    + ", nor has the main branch; give one with --tokenizer");
        }
        downloadResuming(onMain, MAIN, shared);
        return shared;
    }

    private void download(HubFile file, String commit, Path folder) throws IOException, CheckpointRejectedException {
        Path target = folder.resolve(file.path()).normalize();
        if (!target.startsWith(folder.normalize())) {
            throw new CheckpointRejectedException(repo + "@" + shortSha(commit) + " lists a file outside its folder: " + file.path());
        }
        downloadResuming(file, commit, target);
    }

    private void downloadResuming(HubFile file, String revision, Path target) throws IOException, CheckpointRejectedException {
        for (int attempt = 1; ; attempt++) {
            try {
                client.download(repo, revision, file, target);
                return;
            } catch (HubIntegrityException e) {
                throw new CheckpointRejectedException(e.getMessage(), e);
            } catch (HubHttpException | InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                if (attempt == DOWNLOAD_ATTEMPTS) {
                    throw e;
                }
                log.warn("{}; resuming (attempt {} of {})", e.getMessage(), attempt + 1, DOWNLOAD_ATTEMPTS);
            }
        }
    }

    private static String shortSha(String commit) {
        return commit.length() > 12 ? commit.substring(0, 12) : commit;
    }

    /** A branch name as one folder name (branch names may hold slashes). */
    private static String safeName(String branch) {
        return branch.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
