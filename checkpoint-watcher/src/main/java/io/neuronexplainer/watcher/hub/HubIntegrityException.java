package io.neuronexplainer.watcher.hub;

import java.io.IOException;

/** Downloaded bytes whose size or sha256 differ from what the revision's file listing promises: the file is corrupt, not merely interrupted. */
public class HubIntegrityException extends IOException {
    public HubIntegrityException(String message) {
        super(message);
    }
}
