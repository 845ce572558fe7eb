package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.layerswarm.mirror.ManifestContent;
import io.layerswarm.testing.DecoderContract;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Optional;

/**
 * Fuzzes {@value ManifestExchange#PROTOCOL} from both ends: a request is a key of at most
 * {@code MAX_KEY} bytes and a response a manifest of at most {@code MAX_MANIFEST} bytes, or the reader
 * throws {@link IOException}; allocation follows the bytes that arrived, not the length a peer claims;
 * what is read writes back to the same bytes.
 */
class ManifestExchangeFuzzTest {
    /** A claimed 4 MiB manifest must not be reserved before its bytes arrive; the inputs are far smaller. */
    private static final DecoderContract CONTRACT = DecoderContract.allowing(1L << 20, IOException.class);

    @FuzzTest
    void request(byte[] input) throws IOException {
        Optional<String> key = CONTRACT.check(() -> ManifestExchange.readRequest(new ByteArrayInputStream(input)));
        if (key.isPresent()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ManifestExchange.writeRequest(out, key.get());
            assertEquals(key.get(), ManifestExchange.readRequest(new ByteArrayInputStream(out.toByteArray())));
        }
    }

    @FuzzTest
    void response(byte[] input) throws IOException {
        Optional<Optional<ManifestContent>> read =
                CONTRACT.check(() -> ManifestExchange.readResponse(new ByteArrayInputStream(input)));
        if (read.isPresent() && read.get().isPresent()) {
            ManifestContent mc = read.get().get();
            assertTrue(mc.bytes().length <= ManifestExchange.MAX_MANIFEST);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ManifestExchange.writeResponse(out, mc);
            ManifestContent again = ManifestExchange.readResponse(new ByteArrayInputStream(out.toByteArray())).orElseThrow();
            assertArrayEquals(mc.bytes(), again.bytes());
            assertEquals(mc.mediaType(), again.mediaType());
        }
    }
}
