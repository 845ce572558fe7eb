package io.layerswarm.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.testing.DecoderContract;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Fuzzes the OCI documents a registry (or a peer's manifest exchange) hands us. Seeds live in
 * {@code OciDocumentsFuzzTestInputs/<method>/} and run as regression tests; {@code scripts/fuzz/fuzz-all.sh}
 * fuzzes each method. Every parser must return a document or throw {@link OciFormatException}, allocate
 * within a bound of its 4 MiB input limit, and what it returns must survive a canonical round trip.
 */
class OciDocumentsFuzzTest {
    /** The JSON tree of a 4 MiB document may take several times its size; the inputs are far smaller. */
    private static final DecoderContract DOCUMENT = DecoderContract.allowing(64L << 20, OciFormatException.class);
    private static final DecoderContract TEXT = DecoderContract.allowing(1L << 20, IllegalArgumentException.class);

    @FuzzTest
    void manifest(byte[] input) {
        Optional<ImageManifest> m = DOCUMENT.check(() -> ImageManifest.parse(input));
        m.ifPresent(parsed -> {
            byte[] canonical = parsed.toJson();
            ImageManifest again = ImageManifest.parse(canonical);
            assertEquals(parsed, again);
            assertArrayEquals(canonical, again.toJson());
        });
    }

    @FuzzTest
    void index(byte[] input) {
        Optional<ImageIndex> i = DOCUMENT.check(() -> ImageIndex.parse(input));
        i.ifPresent(parsed -> {
            byte[] canonical = parsed.toJson();
            ImageIndex again = ImageIndex.parse(canonical);
            assertEquals(parsed, again);
            assertArrayEquals(canonical, again.toJson());
        });
    }

    @FuzzTest
    void config(byte[] input) {
        Optional<ImageConfig> c = DOCUMENT.check(() -> ImageConfig.parse(input));
        c.ifPresent(parsed -> {
            byte[] canonical = parsed.toJson();
            assertArrayEquals(canonical, ImageConfig.parse(canonical).toJson());
        });
    }

    /** Digests, image references and platforms arrive as text in headers, paths and CLI arguments. */
    @FuzzTest
    void identifiers(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        TEXT.check(() -> Digest.parse(text)).ifPresent(d -> assertEquals(d, Digest.parse(d.toString())));
        TEXT.check(() -> ImageReference.parse(text))
                .ifPresent(r -> assertEquals(r, ImageReference.parse(r.toString())));
        TEXT.check(() -> Platform.parse(text)).ifPresent(p -> assertEquals(p, Platform.parse(p.toString())));
    }
}
