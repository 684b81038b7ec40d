package io.neuronexplainer.runtime;

import java.io.IOException;
import picocli.CommandLine.Option;

/** The port and address a service serves /metrics, /health/live and /health/ready on (a picocli mixin). */
public class MetricsOptions {
    @Option(names = "--metrics-port", defaultValue = "-1",
            description = "Port of the Prometheus /metrics endpoint and of /health/live and /health/ready, 0 for a free one "
                    + "(default: ${DEFAULT-VALUE} = off).")
    int port = -1;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1",
            description = "Address the metrics port binds, e.g. 0.0.0.0 in a container (default: ${DEFAULT-VALUE}).")
    String host = "127.0.0.1";

    public int port() {
        return port;
    }

    public String host() {
        return host;
    }

    /** The service's metrics server on these options (meters work even with no port). */
    public MetricsServer start(String service) throws IOException {
        return MetricsServer.start(service, host, port);
    }
}
