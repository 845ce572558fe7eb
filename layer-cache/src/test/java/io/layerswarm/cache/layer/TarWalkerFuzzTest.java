package io.layerswarm.cache.layer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.testing.DecoderContract;
import io.layerswarm.testing.TestTar;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes layer tars (tar headers, PAX and GNU long-name records, through {@link TarGuardStream}). A layer
 * comes from a registry or a peer and is only verified against its digest, which its author chose: the
 * walker must report every problem as {@link InvalidLayerException}, keep within its limits, and never
 * hand out a path that is absolute or climbs with {@code ..}.
 */
class TarWalkerFuzzTest {
    /** Small limits so that the fuzzer reaches them with small inputs. */
    private static final TarLimits LIMITS = new TarLimits(64, 256, 4096, 1 << 20, 250, 64 << 10);
    /** Read buffers (64 KiB each for the raw and inflated streams), the tar reader's, one meta header. */
    private static final DecoderContract CONTRACT = DecoderContract.allowing(8L << 20, InvalidLayerException.class);

    @FuzzTest
    void plainTar(byte[] input) {
        CONTRACT.check(() -> walk(new ByteArrayInputStream(input)));
    }

    /** The same tar structures behind the gzip decoder and the compression-ratio guard. */
    @FuzzTest
    void gzipTar(byte[] input) {
        byte[] gz = TestTar.gzip(input);
        CONTRACT.check(() -> walk(new ByteArrayInputStream(gz)));
    }

    private static List<TarEntry> walk(InputStream layer) throws IOException {
        List<TarEntry> entries = new ArrayList<>();
        byte[] buf = new byte[8192];
        try (TarWalker w = TarWalker.open(layer, null, LIMITS)) {
            for (TarEntry e; (e = w.next()) != null; ) {
                checkPath(e.path());
                if (e.type() == TarEntry.Type.HARDLINK) {
                    checkPath(e.linkTarget());
                }
                try (InputStream content = w.content()) {
                    while (content.read(buf) >= 0) {
                        // drain: content errors must surface as InvalidLayerException too
                    }
                }
                entries.add(e);
            }
        }
        assertTrue(entries.size() <= LIMITS.maxEntries());
        return entries;
    }

    private static void checkPath(String path) {
        assertFalse(path.startsWith("/"), () -> "absolute path " + path);
        for (String seg : path.split("/")) {
            assertFalse(seg.equals(".."), () -> "path climbs: " + path);
        }
    }
}
