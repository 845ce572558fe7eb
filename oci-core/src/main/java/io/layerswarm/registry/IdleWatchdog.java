package io.layerswarm.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts response bodies that deliver no data for longer than a timeout. The JDK client's request
 * timeout covers only the wait for headers, so without this a stalled registry would block a reader
 * forever. A blocked read is woken by interrupting the reading thread (the JDK body stream has no
 * other wake-up) and then fails with {@link HttpTimeoutException}; the interrupt is cleared again.
 */
final class IdleWatchdog {
    private static final Logger log = LoggerFactory.getLogger(IdleWatchdog.class);

    private final long timeoutNanos;
    private final Set<Watched> watched = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService scanner;

    IdleWatchdog(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    /** Wraps a body stream so that it fails after {@code timeout} without data. */
    InputStream watch(InputStream body, String what) {
        ensureScanner();
        Watched w = new Watched(body, what);
        watched.add(w);
        return w;
    }

    private synchronized void ensureScanner() {
        if (scanner == null) {
            scanner = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "registry-idle-watchdog");
                t.setDaemon(true);
                return t;
            });
            long period = Math.max(10_000_000L, timeoutNanos / 4);
            scanner.scheduleAtFixedRate(this::scan, period, period, TimeUnit.NANOSECONDS);
        }
    }

    private void scan() {
        long now = System.nanoTime();
        for (Watched w : watched) {
            if (now - w.lastActivity > timeoutNanos) {
                w.expire();
            }
        }
    }

    private final class Watched extends BulkReadFilterInputStream {
        private final String what;
        private volatile long lastActivity = System.nanoTime();
        private volatile boolean expired;
        private Thread reader; // guarded by this

        Watched(InputStream in, String what) {
            super(in);
            this.what = what;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            enter();
            int n;
            try {
                n = super.read(b, off, len);
            } catch (IOException e) {
                exit();
                throw expired ? timeout(e) : e;
            }
            exit();
            if (expired) {
                throw timeout(null);
            }
            lastActivity = System.nanoTime();
            return n;
        }

        private synchronized void enter() throws IOException {
            if (expired) {
                throw timeout(null);
            }
            reader = Thread.currentThread();
            lastActivity = System.nanoTime();
        }

        private synchronized void exit() {
            reader = null;
            if (expired) {
                Thread.interrupted(); // our own interrupt: do not leak it to the caller
            }
        }

        synchronized void expire() {
            if (expired) {
                return;
            }
            expired = true;
            watched.remove(this);
            log.warn("registry.read.timeout what=\"{}\" idleMs={}", what, timeoutNanos / 1_000_000);
            if (reader != null) {
                reader.interrupt();
            }
            try {
                in.close();
            } catch (IOException ignored) {
                // closing is best effort; the reader fails either way
            }
        }

        private HttpTimeoutException timeout(IOException cause) {
            HttpTimeoutException e = new HttpTimeoutException(what + ": no data for " + timeoutNanos / 1_000_000 + " ms");
            if (cause != null) {
                e.initCause(cause);
            }
            return e;
        }

        @Override
        public void close() throws IOException {
            watched.remove(this);
            super.close();
        }
    }
}
