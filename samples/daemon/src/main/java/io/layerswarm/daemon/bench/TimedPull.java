package io.layerswarm.daemon.bench;

import io.layerswarm.daemon.demo.FanOut;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One timed pull by a fresh in-process node connected to some holders, with an optional action fired
 * once (off the node's threads) when the largest blob's verified bytes reach a fraction of its size.
 */
final class TimedPull {
    /**
     * What a pull cost.
     *
     * @param elapsed from calling {@link Node#pull} to its return
     * @param actionAt when the action fired, from the same start; null if it never did
     * @param registryBytes blob bytes the registry served meanwhile
     */
    record Result(Duration elapsed, Duration actionAt, long registryBytes) {
    }

    /** Something done to the holders mid-pull. */
    interface Action {
        void run() throws Exception;
    }

    private TimedPull() {
    }

    /**
     * Pulls the origin's image into a new node under {@code dir}, connected to {@code holders} first.
     *
     * @param triggerFraction fraction of the layer's bytes after which {@code action} runs (ignored if null)
     */
    static Result run(FanOut.Origin origin, Path dir, int pieceSize, List<Multiaddr> holders, double triggerFraction,
                      Action action) throws IOException {
        AtomicBoolean fired = new AtomicBoolean();
        AtomicLong firedNanos = new AtomicLong();
        CompletableFuture<Void> acted = new CompletableFuture<>();
        NodeListener trigger = new NodeListener() {
            @Override
            public void blobProgress(NodeEvent.BlobProgress e) {
                // the config blob is tiny: only the layer's progress says how far the pull is
                if (action != null && e.size() > 1024 * 1024 && e.bytes() >= triggerFraction * e.size()
                        && fired.compareAndSet(false, true)) {
                    firedNanos.set(System.nanoTime());
                    CompletableFuture.runAsync(() -> {
                        try {
                            action.run();
                            acted.complete(null);
                        } catch (Exception ex) {
                            acted.completeExceptionally(ex);
                        }
                    });
                }
            }
        };
        try (Node node = Node.builder().storeDir(dir).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .upstream(origin.url()).noMirror().pieceSize(pieceSize).listener(trigger).start()) {
            for (Multiaddr h : holders) {
                node.connect(h, Duration.ofSeconds(30));
            }
            long servedBefore = origin.blobBytesServed();
            long start = System.nanoTime();
            node.pull(origin.repository, origin.tag);
            long end = System.nanoTime();
            long registry = origin.blobBytesServed() - servedBefore;
            if (fired.get()) {
                acted.join(); // the holders are gone before the next run starts
            }
            return new Result(Duration.ofNanos(end - start),
                    fired.get() ? Duration.ofNanos(firedNanos.get() - start) : null, registry);
        }
    }
}
