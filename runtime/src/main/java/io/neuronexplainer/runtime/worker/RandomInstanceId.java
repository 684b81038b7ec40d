package io.neuronexplainer.runtime.worker;

import java.util.UUID;

/** A fresh instance id for workers started without {@code --instance-id}. */
final class RandomInstanceId {
    private RandomInstanceId() {}

    static String next() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
