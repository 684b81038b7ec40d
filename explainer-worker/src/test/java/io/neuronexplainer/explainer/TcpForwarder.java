package io.neuronexplainer.explainer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Relays TCP connections from a local port to a real server, byte for byte: a network path a test
 * can open after a while, so the server behind it is unreachable until then. Not a stand-in.
 */
final class TcpForwarder implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private TcpForwarder(int port, InetSocketAddress target) throws IOException {
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        this.target = target;
        daemon(this::accept, "forwarder-accept");
    }

    static TcpForwarder start(int port, String host, int targetPort) throws IOException {
        return new TcpForwarder(port, new InetSocketAddress(host, targetPort));
    }

    private void accept() {
        try {
            while (true) {
                Socket in = server.accept();
                Socket out = new Socket(target.getHostString(), target.getPort());
                sockets.add(in);
                sockets.add(out);
                daemon(() -> pipe(in, out), "forwarder-up");
                daemon(() -> pipe(out, in), "forwarder-down");
            }
        } catch (IOException closed) {
            // close() ends the accept loop
        }
    }

    private static void pipe(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side closed: the other follows
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    private static void daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
