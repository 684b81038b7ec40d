package io.neuronexplainer.runtime;

import java.util.concurrent.ThreadFactory;

/** Threads that never keep the JVM alive, all with one name, for pools that serve in the background. */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    public static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
