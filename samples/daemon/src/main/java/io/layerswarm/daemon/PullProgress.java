package io.layerswarm.daemon;

import io.layerswarm.node.NodeEvent;
import io.layerswarm.node.NodeListener;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Progress of one image's pull, from the pulling node's events. On a terminal: one status line redrawn in place (at most every
 * 100 ms) with the image, a bar, bytes, rate and ETA. Otherwise (logs, pipes, CI): one plain line
 * per blob as it completes, with the running totals, so the output stays greppable.
 */
final class PullProgress implements NodeListener {
    /** How progress is shown. */
    enum Mode {
        /** A redrawn status line when standard output is a console, else plain lines. */
        AUTO,
        /** Always the redrawn status line. */
        TTY,
        /** Always one line per blob. */
        PLAIN;

        Mode resolve(boolean console) {
            return this == AUTO ? (console ? TTY : PLAIN) : this;
        }
    }

    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream lines;
    private final PrintStream status;
    private final boolean tty;
    private final String image;
    private final long totalBytes;
    private final int totalBlobs;
    private final LongSupplier clock;
    private final long start;
    final AtomicLong fetchedBytes = new AtomicLong();
    final AtomicLong peerBytes = new AtomicLong();
    private final java.util.Map<Digest, Long> partial = new java.util.concurrent.ConcurrentHashMap<>();
    final AtomicInteger done = new AtomicInteger();
    final AtomicInteger cached = new AtomicInteger();
    private long lastDraw;
    private long cachedBytes;

    /**
     * @param lines where plain lines go (stdout)
     * @param status where the redrawn status line goes (stderr, so stdout stays clean)
     * @param mode resolved mode: TTY or PLAIN
     * @param blobs the image's blobs (config and layers) for totals and ETA; empty if unknown
     */
    PullProgress(PrintStream lines, PrintStream status, Mode mode, String image, List<Descriptor> blobs,
                 LongSupplier clock) {
        if (mode == Mode.AUTO) {
            throw new IllegalArgumentException("resolve AUTO first");
        }
        this.lines = lines;
        this.status = status;
        this.tty = mode == Mode.TTY;
        this.image = image;
        this.totalBytes = blobs.stream().mapToLong(Descriptor::size).sum();
        this.totalBlobs = blobs.size();
        this.clock = clock;
        this.start = clock.getAsLong();
        this.lastDraw = start - REDRAW_NANOS;
    }

    /** Verified bytes of a blob reached the store (pieces, from peers or the registry). */
    @Override
    public void blobProgress(NodeEvent.BlobProgress e) {
        partial.put(e.blob(), e.bytes());
        if (tty) {
            maybeDraw();
        }
    }

    @Override
    public void blobFetched(NodeEvent.BlobFetched e) {
        fetchedBytes.addAndGet(e.size());
        peerBytes.addAndGet(e.peerBytes());
    }

    /** A blob of the image is in the store: fetched now, or already there. */
    @Override
    public synchronized void blobServed(NodeEvent.BlobServed e) {
        int n = done.incrementAndGet();
        if (e.fromCache()) {
            cached.incrementAndGet();
            cachedBytes += e.size();
        }
        if (tty) {
            draw();
            return;
        }
        String of = totalBytes > 0 ? " of " + human(totalBytes) : "";
        lines.printf(Locale.ROOT, "blob %s %s %d bytes (%d/%s, %s%s, %s/s)%n", e.blob(),
                e.fromCache() ? "already in store" : "fetched", e.size(), n, totalBlobs > 0 ? totalBlobs : "?",
                human(bytesSoFar()), of, human((long) rate()));
    }

    /** Verified bytes fetched so far, partial blobs included. */
    private long fetchedSoFar() {
        return partial.values().stream().mapToLong(Long::longValue).sum();
    }

    private long bytesSoFar() {
        return fetchedSoFar() + cachedBytes;
    }

    private synchronized void maybeDraw() {
        long now = clock.getAsLong();
        if (now - lastDraw >= REDRAW_NANOS) {
            draw();
        }
    }

    /** Bytes per second fetched so far (blobs already in the store do not count). */
    private double rate() {
        double secs = Math.max(1e-3, (clock.getAsLong() - start) / 1e9);
        return fetchedSoFar() / secs;
    }

    private synchronized void draw() {
        lastDraw = clock.getAsLong();
        status.print("\r" + statusLine() + "\u001b[K");
        status.flush();
    }

    /** The terminal status line, without the carriage return. */
    synchronized String statusLine() {
        double rate = rate();
        if (totalBlobs == 0) {
            // the registry did not say what the image holds: no total, no ETA
            return String.format(Locale.ROOT, "%s %s %s/s (%d blobs)", image, human(bytesSoFar()), human((long) rate),
                    done.get());
        }
        long bytes = Math.min(totalBytes, bytesSoFar());
        double frac = totalBytes == 0 ? 1 : (double) bytes / totalBytes;
        int width = 24;
        int filled = (int) Math.round(frac * width);
        String eta = done.get() >= totalBlobs ? "done" : rate < 1 ? "ETA --" : "ETA " + duration((totalBytes - bytes) / rate);
        return String.format(Locale.ROOT, "%s [%s%s] %3d%% %s/%s %s/s %s (%d/%d blobs)", image, "#".repeat(filled),
                ".".repeat(width - filled), (int) (frac * 100), human(bytes), human(totalBytes), human((long) rate), eta,
                done.get(), totalBlobs);
    }

    /** Ends the status line (a terminal keeps the last drawing). */
    void finish() {
        if (tty) {
            draw();
            status.println();
        }
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String duration(double seconds) {
        long s = (long) Math.ceil(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
