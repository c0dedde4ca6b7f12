package dev.shapeshift.scenarios;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/** A TCP proxy to 127.0.0.1:{@code upstream} that holds every answer chunk for {@link #delayMillis} (a slow service). */
final class DelayProxy implements AutoCloseable {

    final AtomicLong delayMillis = new AtomicLong();
    private final ServerSocket server;
    private final int upstream;

    DelayProxy(int upstream) throws IOException {
        this.upstream = upstream;
        this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread t = new Thread(this::acceptLoop, "delay-proxy");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket up = new Socket("127.0.0.1", upstream);
                pump(client.getInputStream(), up.getOutputStream(), client, up, false);
                pump(up.getInputStream(), client.getOutputStream(), client, up, true);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(InputStream in, OutputStream out, Socket a, Socket b, boolean delayed) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            try (a; b) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (delayed && delayMillis.get() > 0) {
                        Thread.sleep(delayMillis.get());
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // one side closed: closing both ends the other pump too
            }
        }, "delay-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
