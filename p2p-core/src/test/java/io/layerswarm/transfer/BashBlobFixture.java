package io.layerswarm.transfer;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.PieceLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** The layer-exchange tests' blob (a real binary) in 64 KiB pieces, and what a test opens, closed after it. */
abstract class BashBlobFixture {
    static final int PIECE = 64 * 1024;
    byte[] blob;
    Digest digest;
    PieceLayout layout;
    final List<AutoCloseable> closers = new ArrayList<>();
    final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void setUpBlob() throws IOException {
        blob = Files.readAllBytes(Path.of("/usr/bin/bash")); // a real binary from Debian's bash package
        digest = Digest.sha256(blob);
        layout = new PieceLayout(blob.length, PIECE);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closers) {
            c.close();
        }
        pool.shutdownNow();
    }
}
