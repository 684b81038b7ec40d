package io.neuronexplainer.runtime;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/** Creates the JDK HTTP servers of the project (scorer API, metrics, the benches' LLM servers) with Nagle off. */
public final class HttpServers {
    private static final String NODELAY = "sun.net.httpserver.nodelay";

    private HttpServers() {
    }

    /**
     * An unstarted server bound to {@code address}. The JDK's server writes a response's headers and
     * body apart; with Nagle's algorithm on, the body waits for the client's delayed ACK: ~40 ms added
     * to every answer (measured: 250 ms seen by the client for a 200 ms answer). The JDK reads the
     * setting once, when its first server is created, so it is set here unless the user set it.
     */
    public static HttpServer create(InetSocketAddress address, int backlog) throws IOException {
        if (System.getProperty(NODELAY) == null) {
            System.setProperty(NODELAY, "true");
        }
        return HttpServer.create(address, backlog);
    }
}
