package io.layerswarm.handoff;

import com.github.luben.zstd.ZstdOutputStream;
import com.google.protobuf.ByteString;
import io.layerswarm.handoff.pb.HandoffProtos;
import io.layerswarm.handoff.pb.HandoffProtos.Entry;
import io.layerswarm.handoff.pb.HandoffProtos.Record;
import io.layerswarm.transfer.Frames;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one {@link RoundPlan} as a stream of {@link Record} frames, reading inline content from the
 * source tree and compressing each file with zstd on the way. The stream is not closed.
 */
public final class RoundWriter {
    private static final Logger LOG = LoggerFactory.getLogger(RoundWriter.class);
    /** Wire format version in the header. */
    public static final int VERSION = 1;
    /** Compressed bytes per chunk frame. */
    static final int CHUNK = 256 * 1024;

    private final int zstdLevel;

    /** @param zstdLevel zstd compression level (3 is zstd's default, fast and decent) */
    public RoundWriter(int zstdLevel) {
        this.zstdLevel = zstdLevel;
    }

    /** A writer at zstd level 3. */
    public RoundWriter() {
        this(3);
    }

    /**
     * Streams {@code plan} reading content below {@code sourceRoot}.
     *
     * @throws SourceChangedException if an inline file no longer matches its scanned size or digest
     *                                (the stream is then incomplete and the receiver refuses it)
     */
    public RoundStats write(RoundPlan plan, Path sourceRoot, OutputStream out) throws IOException {
        Objects.requireNonNull(sourceRoot, "sourceRoot");
        CountingOutputStream wire = new CountingOutputStream(out);
        long entries = plan.deletions().size() + plan.changes().size();
        Frames.write(wire, Record.newBuilder().setHeader(HandoffProtos.RoundHeader.newBuilder().setVersion(VERSION)
                .setRound(plan.round()).setContentBytes(plan.inlineBytes()).setEntries((int) entries)).build());
        for (String d : plan.deletions()) {
            Frames.write(wire, Record.newBuilder().setEntry(Entry.newBuilder().setKind(Entry.Kind.WHITEOUT)
                    .setPath(d)).build());
        }
        try {
            for (RoundPlan.Change c : plan.changes()) {
                Frames.write(wire, Record.newBuilder().setEntry(toProto(c.entry(), c.inline())).build());
                if (c.inline()) {
                    sendContent(c.entry(), sourceRoot.resolve(c.entry().path()), wire);
                }
            }
        } catch (SourceChangedException e) {
            throw e.withWireBytes(wire.count); // the aborted round's bytes were on the link all the same
        }
        Frames.write(wire, Record.newBuilder().setEnd(HandoffProtos.RoundEnd.newBuilder().setEntries((int) entries)
                .setContentBytes(plan.inlineBytes())).build());
        wire.flush();
        RoundStats stats = new RoundStats(plan.round(), entries, plan.deletions().size(), plan.inlineFiles(),
                plan.referencedFiles(), plan.inlineBytes(), wire.count);
        LOG.info("event=handoff.roundSent round={} entries={} inlineFiles={} referencedFiles={} contentBytes={} "
                + "wireBytes={}", stats.round(), stats.entries(), stats.inlineFiles(), stats.referencedFiles(),
                stats.contentBytes(), stats.wireBytes());
        return stats;
    }

    private void sendContent(TreeEntry e, Path file, OutputStream wire) throws IOException {
        MessageDigest md = TreeScanner.newDigest();
        ChunkOutputStream chunks = new ChunkOutputStream(wire);
        long n;
        try (InputStream in = new DigestInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), md);
             ZstdOutputStream z = new ZstdOutputStream(chunks, zstdLevel)) {
            z.setCloseFrameOnFlush(false);
            n = copyAtMost(in, z, e.size() + 1);
        }
        // Checked after the content went out: the receiver's digest check refuses it anyway, but the
        // sender must not report success for a round built from a moving target.
        String digest = HexFormat.of().formatHex(md.digest());
        if (n != e.size() || !digest.equals(e.sha256())) {
            throw new SourceChangedException(e.path(), "file " + e.path() + " changed since the scan (size " + e.size()
                    + " -> " + n + (n == e.size() ? ", content differs" : "") + ")");
        }
    }

    private static long copyAtMost(InputStream in, OutputStream out, long max) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        int r;
        while (n < max && (r = in.read(buf, 0, (int) Math.min(buf.length, max - n))) != -1) {
            out.write(buf, 0, r);
            n += r;
        }
        return n;
    }

    static Entry toProto(TreeEntry e, boolean inline) {
        Entry.Builder b = Entry.newBuilder().setKind(switch (e.type()) {
            case DIRECTORY -> Entry.Kind.DIRECTORY;
            case FILE -> Entry.Kind.FILE;
            case SYMLINK -> Entry.Kind.SYMLINK;
            case HARDLINK -> Entry.Kind.HARDLINK;
            case WHITEOUT -> Entry.Kind.LOWER_WHITEOUT;
        }).setPath(e.path()).setMode(e.mode()).setUid(e.uid()).setGid(e.gid()).setMtimeNanos(e.mtimeNanos())
                .setSize(e.size()).setSha256(e.sha256()).setLinkTarget(e.linkTarget()).setInlineContent(inline)
                .setOpaque(e.opaque());
        for (Map.Entry<String, String> x : e.xattrs().entrySet()) {
            b.addXattrs(HandoffProtos.Xattr.newBuilder().setName(x.getKey())
                    .setValue(ByteString.copyFrom(HexFormat.of().parseHex(x.getValue()))));
        }
        return b.build();
    }

    /** Cuts compressed bytes into chunk frames; close sends the last (possibly empty) one. */
    private static final class ChunkOutputStream extends OutputStream {
        private final OutputStream wire;
        private final byte[] buf = new byte[CHUNK];
        private int len;
        private boolean closed;

        ChunkOutputStream(OutputStream wire) {
            this.wire = wire;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int n) throws IOException {
            while (n > 0) {
                if (len == buf.length) {
                    emit(false);
                }
                int k = Math.min(n, buf.length - len);
                System.arraycopy(b, off, buf, len, k);
                len += k;
                off += k;
                n -= k;
            }
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                emit(true);
            }
        }

        private void emit(boolean last) throws IOException {
            Frames.write(wire, Record.newBuilder().setChunk(HandoffProtos.Chunk.newBuilder()
                    .setData(ByteString.copyFrom(buf, 0, len)).setLast(last)).build());
            len = 0;
        }
    }

    /** Counts bytes written through it. */
    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        private long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
