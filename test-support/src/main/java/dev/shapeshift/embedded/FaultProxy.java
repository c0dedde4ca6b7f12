package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on a free local port in front of one upstream server, for network-fault tests (this
 * kernel has no {@code tc netem}). While {@linkplain #blackhole() black-holed} it behaves like a
 * silent partition as the client sees it: bytes the client sends are swallowed, nothing comes
 * back, no connection is reset, and a new connection is accepted but never reaches the upstream
 * (its start-up handshake hangs). {@link #heal()} resets every connection that lived through the
 * partition (their streams lost bytes; a real partition ends the same way once TCP gives up) and
 * relays new ones normally again. A connection the client closes during the partition stays open
 * towards the server until the heal, as a FIN that cannot cross the partition does: the server's
 * session lives on, with its locks, until then.
 *
 * <p>{@link #delayReplies} makes the upstream slow instead (every answer held a while).
 *
 * <p>It counts what a test needs to tell whether the client noticed: {@link #clientClosesDuringBlackhole()}
 * is how many connections the <em>client</em> closed while black-holed (a client with a socket
 * timeout gives up its half-open sessions; one without waits until the heal resets them).
 *
 * <p>Why one class of ~320 lines: half of it is the inner {@code Link} (one relayed connection),
 * and every read of a link consults the proxy's fault state (black-holed or not, the reply delay,
 * the upstream to dial) and writes its counters (closes during the partition, when the first one
 * came, the start-up bytes); the proxy in turn resets links on heal and retarget. Moving
 * {@code Link} out would need that state in a third object shared by both, for no reader gain: the
 * public half (the fault switches and the counters) is ~150 lines of one-line methods.
 */
public final class FaultProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FaultProxy.class);

  private volatile String upstreamHost;
  private volatile int upstreamPort;
  private final ServerSocket server;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final AtomicLong clientClosesDuringBlackhole = new AtomicLong();
  private final java.util.Queue<String> closedDuringBlackhole = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private volatile long blackholeAt;
  private volatile long firstCloseAt;
  private final AtomicLong replyDelayMillis = new AtomicLong();
  private volatile boolean blackholed;
  private volatile boolean closed;

  public FaultProxy(String upstreamHost, int upstreamPort) {
    this.upstreamHost = upstreamHost;
    this.upstreamPort = upstreamPort;
    try {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new EmbeddedServerException("fault proxy: cannot listen: " + e.getMessage(), e);
    }
    Thread acceptor = new Thread(this::accept, "fault-proxy-accept-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The local port clients connect to instead of the upstream's. */
  public int port() {
    return server.getLocalPort();
  }

  public String host() {
    return server.getInetAddress().getHostAddress();
  }

  /** Starts a silent partition: nothing is relayed, nothing is reset. */
  public void blackhole() {
    clientClosesDuringBlackhole.set(0);
    closedDuringBlackhole.clear();
    firstCloseAt = 0;
    blackholeAt = System.nanoTime();
    blackholed = true;
    log.info("fault proxy black-holed port={} connections={}", port(), links.size());
  }

  /** Ends the partition: resets the connections that lived through it, relays new ones. */
  public void heal() {
    blackholed = false;
    int reset = 0;
    for (Link l : links) {
      if (l.sawBlackhole) {
        l.close();
        reset++;
      }
    }
    log.info("fault proxy healed port={} reset={}", port(), reset);
  }

  /**
   * Points the proxy at another server, as a virtual IP or DNS name moves to a promoted replica
   * after a failover: every open connection is reset (the old server is gone), new ones reach the
   * new upstream.
   */
  public void retarget(String host, int port) {
    upstreamHost = host;
    upstreamPort = port;
    int reset = 0;
    for (Link l : links) {
      l.close();
      reset++;
    }
    log.info("fault proxy retargeted port={} upstream={}:{} reset={}", port(), host, port, reset);
  }

  /**
   * A slow upstream, as the client sees it: every chunk of the upstream's answer is held this long
   * before it is relayed (0, the default, relays at once). Takes effect for the next chunk.
   */
  public void delayReplies(long millis) {
    replyDelayMillis.set(millis);
  }

  /** Connections the client closed while black-holed (since the last {@link #blackhole()}). */
  public long clientClosesDuringBlackhole() {
    return clientClosesDuringBlackhole.get();
  }

  /**
   * Connections the client closed while black-holed whose first bytes (a PostgreSQL start-up
   * packet, where {@code application_name} travels in clear text unless TLS is on) contain
   * {@code marker}: which of the client's sessions noticed.
   */
  public long clientClosesDuringBlackhole(String marker) {
    return closedDuringBlackhole.stream().filter(s -> s.contains(marker)).count();
  }

  /** Milliseconds from the last {@link #blackhole()} to the client's first close during it; -1 if none. */
  public long millisUntilFirstClientClose() {
    long at = firstCloseAt;
    return at == 0 ? -1 : (at - blackholeAt) / 1_000_000;
  }

  /** Connections open now (client side). */
  public int connections() {
    return links.size();
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("fault proxy accept failed port={} error={}", port(), e.toString());
        }
        return;
      }
      Link link = new Link(client);
      links.add(link);
      link.start();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      log.debug("closing fault proxy failed error={}", e.toString());
    }
    links.forEach(Link::close);
  }

  /** One client connection and its upstream connection, pumped both ways. */
  private final class Link {
    private final Socket client;
    private volatile Socket upstream;
    private volatile boolean sawBlackhole;
    private volatile boolean done;
    private final StringBuilder startup = new StringBuilder();

    Link(Socket client) {
      this.client = client;
    }

    void start() {
      Thread t = new Thread(this::run, "fault-proxy-" + client.getPort());
      t.setDaemon(true);
      t.start();
    }

    private void run() {
      try {
        while (blackholed && !done) {
          // A connection made during the partition hangs in its handshake: swallow what it sends.
          sawBlackhole = true;
          if (swallow(client.getInputStream())) {
            return;
          }
        }
        Socket up = new Socket();
        up.connect(new InetSocketAddress(upstreamHost, upstreamPort), 10_000);
        upstream = up;
        Thread back = new Thread(() -> pump(up, client, false), "fault-proxy-back-" + client.getPort());
        back.setDaemon(true);
        back.start();
        pump(client, up, true);
      } catch (IOException e) {
        close();
      }
    }

    /** Reads and drops what is available; true when the client closed its side. */
    private boolean swallow(InputStream in) throws IOException {
      client.setSoTimeout(200);
      try {
        byte[] buf = new byte[8192];
        int n = in.read(buf);
        if (n > 0 && startup.length() < 2048) {
          startup.append(new String(buf, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        if (n < 0) {
          clientClosed();
          return true;
        }
      } catch (java.net.SocketTimeoutException e) {
        // nothing sent: still partitioned, or healed
      } finally {
        client.setSoTimeout(0);
      }
      return false;
    }

    private void pump(Socket from, Socket to, boolean fromClient) {
      byte[] buf = new byte[16384];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        while (!done) {
          int n;
          if (fromClient) {
            from.setSoTimeout(200);
            try {
              n = in.read(buf);
            } catch (java.net.SocketTimeoutException e) {
              continue;
            }
          } else {
            n = in.read(buf);
          }
          if (n < 0) {
            if (fromClient) {
              clientClosed();
              if (blackholed) {
                // The client's FIN would not cross the partition either: the server keeps its session
                // (and what it holds: locks) until the heal resets the connection.
                sawBlackhole = true;
                closeQuietly(client);
                return;
              }
            } else if (blackholed) {
              // The server ended the session (e.g. its idle_in_transaction_session_timeout) during the
              // partition: its FIN would not reach the client either. Keep the client's side open
              // and silent; the heal resets it.
              sawBlackhole = true;
              return;
            }
            break;
          }
          if (fromClient && startup.length() < 2048) {
            startup.append(new String(buf, 0, Math.min(n, 2048), java.nio.charset.StandardCharsets.ISO_8859_1));
          }
          if (blackholed) {
            sawBlackhole = true; // swallowed: neither direction gets anything through
            continue;
          }
          long delay = fromClient ? 0 : replyDelayMillis.get();
          if (delay > 0) {
            Thread.sleep(delay);
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        if (!fromClient && blackholed && !done) {
          sawBlackhole = true; // as above: a reset from the server does not reach the client during the partition
          return;
        }
      }
      close();
    }

    private void clientClosed() {
      if (blackholed) {
        closedDuringBlackhole.add(startup.toString());
        if (clientClosesDuringBlackhole.incrementAndGet() == 1) {
          firstCloseAt = System.nanoTime();
        }
      }
    }

    void close() {
      done = true;
      links.remove(this);
      closeQuietly(client);
      closeQuietly(upstream);
    }

    private void closeQuietly(Socket s) {
      if (s != null) {
        try {
          s.close();
        } catch (IOException e) {
          // already closed
        }
      }
    }
  }
}
