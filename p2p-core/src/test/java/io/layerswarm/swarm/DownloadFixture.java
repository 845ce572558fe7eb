package io.layerswarm.swarm;

import io.layerswarm.oci.Digest;
import java.io.ByteArrayInputStream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The set-up the download tests share: a real blob cut into 64 KiB pieces with its true piece hashes, a
 * fresh {@link SwarmLoop} and an in-memory sink, and a download started on them.
 */
abstract class DownloadFixture {
    static final int PIECE = 64 * 1024;

    byte[] blob;
    Digest digest;
    PieceLayout layout;
    PieceHashes hashes;
    SwarmLoop loop;
    MemorySink sink;

    @BeforeEach
    void setUpDownload() throws Exception {
        blob = TestSources.realBlob();
        digest = Digest.sha256(blob);
        layout = new PieceLayout(blob.length, PIECE);
        hashes = PieceHashes.compute(digest, layout, new ByteArrayInputStream(blob));
        loop = new SwarmLoop();
        sink = new MemorySink(digest, blob.length);
    }

    @AfterEach
    void closeLoop() {
        loop.close();
    }

    /** Starts a rarest-first download of the blob into the sink. */
    BlobDownload start(OriginGate gate, DownloadConfig cfg, BlobDownload.Listener listener) {
        return BlobDownload.start(loop, hashes, sink, PiecePicker.rarestFirst(), gate, cfg, listener, null);
    }

    /** The download's result, waited for at most 30 s. */
    DownloadResult await(BlobDownload d) throws Exception {
        return d.completion().get(30, TimeUnit.SECONDS);
    }
}
