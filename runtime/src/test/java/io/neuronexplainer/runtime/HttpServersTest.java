package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class HttpServersTest {
    /** More than the JDK server's default cap on idle connections (200). */
    private static final int CONNECTIONS = 250;

    @Test
    void everyKeptAliveConnectionIsAnsweredAgain() throws Exception {
        HttpServer http = HttpServers.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        http.setExecutor(threads);
        http.createContext("/", exchange -> {
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.start();
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < CONNECTIONS; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), http.getAddress().getPort());
                s.setSoTimeout(10_000);
                sockets.add(s);
                assertEquals("ok", get(s), "first answer on connection " + i);
            }
            Thread.sleep(300);
            int answered = 0;
            for (Socket s : sockets) {
                answered += "ok".equals(get(s)) ? 1 : 0;
            }
            assertEquals(CONNECTIONS, answered, "connections answered a second time");
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
            http.stop(0);
            threads.shutdownNow();
        }
    }

    /** One keep-alive GET on {@code socket}: the answer's body, or null when the server closed the connection. */
    private static String get(Socket socket) throws IOException {
        try {
            OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    return null;
                }
                head.write(b);
            }
            int length = 0;
            for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
                if (line.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring("content-length:".length()).trim());
                }
            }
            byte[] body = in.readNBytes(length);
            return body.length == length ? new String(body, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null; // reset by the server
        }
    }
}
