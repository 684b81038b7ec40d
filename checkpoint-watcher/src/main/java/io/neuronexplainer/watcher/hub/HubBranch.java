package io.neuronexplainer.watcher.hub;

/** A branch of a Hub repository: its name ({@code step1000}), full ref ({@code refs/heads/step1000}) and the commit it points at. */
public record HubBranch(String name, String ref, String targetCommit) {
    /** Pull-request refs carry proposed changes, never a training run's checkpoint. */
    public boolean isPullRequest() {
        return ref.startsWith("refs/pr/") || name.startsWith("refs/pr/");
    }
}
