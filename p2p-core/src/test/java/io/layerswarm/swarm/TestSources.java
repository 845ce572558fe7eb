package io.layerswarm.swarm;

import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** In-process piece sources and sinks for scheduler tests; the blob is a real binary from the machine. */
final class TestSources {
    static final ScheduledExecutorService TIMER = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "test-source");
        t.setDaemon(true);
        return t;
    });

    private TestSources() {
    }

    /** A real ELF binary shipped by Debian's bash package. */
    static byte[] realBlob() throws IOException {
        return Files.readAllBytes(Path.of("/usr/bin/bash"));
    }

    /** What a source does with requests. */
    enum Behaviour { GOOD, CORRUPT, HANG, FAIL, BUSY, NOT_HELD }

    /** A peer's refusal: all upload slots busy, or a range it announced and no longer holds. */
    static final class Refused extends IOException implements PieceSource.Refusal {
        private static final long serialVersionUID = 1L;
        private final boolean busy;

        private Refused(String message, boolean busy) {
            super(message);
            this.busy = busy;
        }

        static Refused busy(String id) {
            return new Refused(id + ": all upload slots busy", true);
        }

        static Refused notHeld(String id) {
            return new Refused(id + ": range not held", false);
        }

        @Override
        public boolean busy() {
            return busy;
        }

        @Override
        public boolean notHeld() {
            return !busy;
        }
    }

    static final class Source implements PieceSource {
        /** With {@link Behaviour#BUSY}: requests refused before the source turns {@link Behaviour#GOOD}. */
        volatile int busyAnswers = 5;
        /** When positive: requests after this many behave {@link Behaviour#GOOD} (e.g. a registry that recovers). */
        volatile int goodAfter;
        final String id;
        final byte[] blob;
        final boolean origin;
        final long delayMillis;
        volatile Behaviour behaviour;
        final AtomicInteger requests = new AtomicInteger();

        Source(String id, byte[] blob, boolean origin, long delayMillis, Behaviour behaviour) {
            this.id = id;
            this.blob = blob;
            this.origin = origin;
            this.delayMillis = delayMillis;
            this.behaviour = behaviour;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public boolean isOrigin() {
            return origin;
        }

        @Override
        public CompletableFuture<ByteBuffer> fetch(long offset, int length) {
            int n = requests.incrementAndGet();
            CompletableFuture<ByteBuffer> f = new CompletableFuture<>();
            Behaviour b = goodAfter > 0 && n > goodAfter ? Behaviour.GOOD : behaviour;
            if (b == Behaviour.HANG) {
                return f;
            }
            TIMER.schedule(() -> {
                if (b == Behaviour.FAIL) {
                    f.completeExceptionally(new IOException(id + " refused"));
                    return;
                }
                if (b == Behaviour.NOT_HELD) {
                    f.completeExceptionally(Refused.notHeld(id));
                    return;
                }
                if (b == Behaviour.BUSY) {
                    if (--busyAnswers <= 0) {
                        behaviour = Behaviour.GOOD;
                    }
                    f.completeExceptionally(Refused.busy(id));
                    return;
                }
                byte[] piece = Arrays.copyOfRange(blob, (int) offset, (int) offset + length);
                if (b == Behaviour.CORRUPT) {
                    piece[piece.length / 2] ^= 0x5a;
                }
                f.complete(ByteBuffer.wrap(piece));
            }, delayMillis, TimeUnit.MILLISECONDS);
            return f;
        }
    }
}
