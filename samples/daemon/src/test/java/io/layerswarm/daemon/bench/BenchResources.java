package io.layerswarm.daemon.bench;

import io.layerswarm.testing.Containerd;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What a containerd benchmark driver starts (registry, nodes, containerds, ...): closed in reverse order
 * when the run ends, also on SIGTERM (a shutdown hook), then the work directory is deleted. Also the
 * drivers' thread pool (daemon threads).
 */
final class BenchResources {
    private final Path work;
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();
    private final ExecutorService pool;

    BenchResources(Path work, String threadName) {
        this.work = work;
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    /** The drivers' pool (stdout readers, concurrent pulls). */
    ExecutorService pool() {
        return pool;
    }

    /** Closes {@code c} at the end unless {@link #close(AutoCloseable)} closed it earlier. */
    <T extends AutoCloseable> T add(T c) {
        open.add(c);
        return c;
    }

    /** Closes {@code c} now and forgets it. */
    void close(AutoCloseable c) throws Exception {
        open.remove(c);
        c.close();
    }

    /**
     * Runs {@code body} when containerd can run here (else prints why and returns 2), with everything
     * added closed afterwards, also if the JVM is terminated meanwhile; an {@link IllegalArgumentException}
     * from {@code body} is printed as one {@code error:} line and returns 2.
     */
    int run(Callable<Integer> body) throws Exception {
        Optional<String> missing = Containerd.unavailableReason();
        if (missing.isPresent()) {
            System.err.println("error: " + missing.get());
            return 2;
        }
        Thread hook = new Thread(this::closeAll, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return body.call();
        } catch (IllegalArgumentException e) {
            // bad input found once the corpus is read (an unknown image, a warm-up sharing a layer): one line
            System.err.println("error: " + e.getMessage());
            return 2;
        } finally {
            closeAll();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
    }

    private synchronized void closeAll() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
        open.clear();
        pool.shutdownNow();
        Containerd.deleteTree(work);
    }
}
