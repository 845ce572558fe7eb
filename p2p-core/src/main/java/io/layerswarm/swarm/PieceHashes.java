package io.layerswarm.swarm;

import io.layerswarm.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * The sha256 of every piece of a blob. Peers send these so pieces can be checked one by one; the
 * list itself is only trusted once the assembled blob matches its OCI digest (the root of trust).
 */
public final class PieceHashes {
    private static final int HASH = 32;
    /** Bytes hashed per read: pieces are streamed, never held whole. */
    private static final int SLICE = 64 * 1024;

    private final Digest blob;
    private final PieceLayout layout;
    private final byte[] hashes;

    /**
     * @param blob the blob these pieces make up
     * @param layout how it is cut
     * @param hashes {@code 32 * layout.count()} bytes, piece hashes in order
     */
    public PieceHashes(Digest blob, PieceLayout layout, byte[] hashes) {
        this.blob = Objects.requireNonNull(blob, "blob");
        this.layout = Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(hashes, "hashes");
        if (hashes.length != (long) HASH * layout.count()) {
            throw new IllegalArgumentException("expected " + layout.count() + " piece hashes (" + HASH * layout.count()
                    + " bytes), got " + hashes.length + " bytes");
        }
        this.hashes = hashes.clone();
    }

    /**
     * Computes the hashes of a blob read from a stream (which must hold exactly the blob).
     *
     * @throws io.layerswarm.oci.DigestMismatchException if the content does not match {@code blob}
     */
    public static PieceHashes compute(Digest blob, PieceLayout layout, InputStream in) throws IOException {
        byte[] out = new byte[HASH * layout.count()];
        byte[] buf = new byte[SLICE];
        MessageDigest whole = blob.newMessageDigest();
        MessageDigest piece = io.layerswarm.oci.Digest.Algorithm.SHA256.newMessageDigest();
        for (int i = 0; i < layout.count(); i++) {
            if (hashStream(in, layout.length(i), buf, piece, whole) != layout.length(i)) {
                throw new IOException("blob " + blob + " ended early at piece " + i);
            }
            System.arraycopy(piece.digest(), 0, out, i * HASH, HASH);
        }
        if (in.read() >= 0) {
            throw new IOException("blob " + blob + " is longer than " + layout.blobSize() + " bytes");
        }
        if (!blob.matches(whole.digest())) {
            throw new io.layerswarm.oci.DigestMismatchException(blob, null, "content does not match " + blob
                    + "; refusing to hash it");
        }
        return new PieceHashes(blob, layout, out);
    }

    /** Feeds up to {@code length} bytes of {@code in} to both digests; returns how many there were. */
    private static int hashStream(InputStream in, int length, byte[] buf, MessageDigest a, MessageDigest b)
            throws IOException {
        int done = 0;
        while (done < length) {
            int n = in.read(buf, 0, Math.min(buf.length, length - done));
            if (n < 0) {
                break;
            }
            a.update(buf, 0, n);
            if (b != null) {
                b.update(buf, 0, n);
            }
            done += n;
        }
        return done;
    }

    /** The blob digest. */
    public Digest blob() {
        return blob;
    }

    /** The layout. */
    public PieceLayout layout() {
        return layout;
    }

    /** Whether {@code data} is piece {@code i}. */
    public boolean verify(int i, ByteBuffer data) {
        if (data.remaining() != layout.length(i)) {
            return false;
        }
        MessageDigest md = io.layerswarm.oci.Digest.Algorithm.SHA256.newMessageDigest();
        md.update(data.duplicate());
        return MessageDigest.isEqual(md.digest(), Arrays.copyOfRange(hashes, i * HASH, (i + 1) * HASH));
    }

    /**
     * Whether the next {@code layout.length(i)} bytes of {@code in} are piece {@code i}, reading them
     * in slices (nothing beyond them is read).
     */
    public boolean verify(int i, InputStream in) throws IOException {
        MessageDigest md = io.layerswarm.oci.Digest.Algorithm.SHA256.newMessageDigest();
        int len = layout.length(i);
        return hashStream(in, len, new byte[Math.min(SLICE, len)], md, null) == len
                && MessageDigest.isEqual(md.digest(), Arrays.copyOfRange(hashes, i * HASH, (i + 1) * HASH));
    }

    /** The concatenated hashes, for sending. */
    public byte[] toBytes() {
        return hashes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PieceHashes p && p.blob.equals(blob) && p.layout.equals(layout)
                && Arrays.equals(p.hashes, hashes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(blob, layout, Arrays.hashCode(hashes));
    }
}
