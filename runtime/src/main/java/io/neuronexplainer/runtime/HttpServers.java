package io.neuronexplainer.runtime;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/** Creates the JDK HTTP servers of the project (scorer API, metrics, the benches' LLM servers) with Nagle off. */
public final class HttpServers {
    private static final String NODELAY = "sun.net.httpserver.nodelay";
    private static final String MAX_IDLE = "sun.net.httpserver.maxIdleConnections";

    private HttpServers() {
    }

    /**
     * An unstarted server bound to {@code address}. The JDK's server writes a response's headers and
     * body apart; with Nagle's algorithm on, the body waits for the client's delayed ACK: ~40 ms added
     * to every answer (measured: 250 ms seen by the client for a 200 ms answer). The JDK reads the
     * setting once, when its first server is created, so it is set here unless the user set it.
     *
     * <p>Likewise its cap on idle connections (200): past it, the JDK closes a connection as soon as it
     * has answered, without saying so in the answer, and a client that keeps its connections for the
     * next call (the LLM clients keep up to 64 per SDK client) fails that call with an I/O error. Seen
     * in bench pipeline's fake LLM server: hundreds of retried calls a second.
     */
    public static HttpServer create(InetSocketAddress address, int backlog) throws IOException {
        if (System.getProperty(NODELAY) == null) {
            System.setProperty(NODELAY, "true");
        }
        if (System.getProperty(MAX_IDLE) == null) {
            System.setProperty(MAX_IDLE, "4096");
        }
        return HttpServer.create(address, backlog);
    }
}
