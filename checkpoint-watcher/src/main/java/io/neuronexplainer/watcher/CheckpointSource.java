package io.neuronexplainer.watcher;

import java.io.IOException;
import java.util.List;

/**
 * Where a training run's checkpoints appear (a folder, a Hugging Face Hub repository). The
 * watcher asks {@link #list()} every poll, then {@link #fetch} for each new candidate it releases.
 */
public interface CheckpointSource {
    /** Checkpoints visible now and complete (never a half-written one); cheap enough to call every poll. */
    List<CheckpointCandidate> list() throws IOException;

    /**
     * Makes a candidate's files local and checks what can be checked before the weights are read
     * (for the Hub: {@code config.json} before any weight is downloaded). The returned folder holds
     * {@code config.json} and the weights; the tokenizer may be elsewhere.
     *
     * @throws CheckpointRejectedException when the checkpoint cannot be run, with the reason in one line
     */
    LocalCheckpoint fetch(CheckpointCandidate candidate) throws IOException, CheckpointRejectedException;

    /** One line for logs: {@code folder /runs/x} or {@code hub EleutherAI/pythia-70m}. */
    String describe();
}
