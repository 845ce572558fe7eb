package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.oci.DigestMismatchException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DigestVerifyingInputStreamTest {
    final byte[] data = TestImages.random(5, 100_000);
    final Digest digest = Digest.sha256(data);

    @Test
    void passesMatchingContent() throws Exception {
        DigestVerifyingInputStream in = new DigestVerifyingInputStream(new ByteArrayInputStream(data), digest, data.length, "t");
        assertArrayEquals(data, in.readAllBytes());
        assertTrue(in.verified());
        assertEquals(data.length, in.bytesRead());
        assertEquals(-1, in.read());
    }

    @Test
    void throwsAtEofOnMismatch() throws Exception {
        byte[] bad = data.clone();
        bad[500] ^= 0x40;
        InputStream in = new DigestVerifyingInputStream(new ByteArrayInputStream(bad), digest, -1, "blob x");
        DigestMismatchException e = assertThrows(DigestMismatchException.class, in::readAllBytes);
        assertEquals(digest, e.expected());
        assertTrue(e.getMessage().contains("blob x") && e.getMessage().contains(digest.toString()), e.getMessage());
    }

    @Test
    void rejectsTruncatedAndOverlongContent() {
        InputStream shortIn = new DigestVerifyingInputStream(new ByteArrayInputStream(data, 0, 1000), digest, data.length, "t");
        assertTrue(assertThrows(DigestMismatchException.class, shortIn::readAllBytes).getMessage().contains("1000 bytes instead of 100000"));
        byte[] longer = new byte[data.length * 3];
        InputStream longIn = new DigestVerifyingInputStream(new ByteArrayInputStream(longer), digest, data.length, "t");
        // fails as soon as the limit is passed, without reading the remainder
        assertThrows(DigestMismatchException.class, () -> longIn.transferTo(java.io.OutputStream.nullOutputStream()));
    }

    @Test
    void skipStillHashes() throws Exception {
        InputStream in = new DigestVerifyingInputStream(new ByteArrayInputStream(data), digest, data.length, "t");
        assertEquals(50_000, in.skip(50_000));
        in.readAllBytes(); // no exception: skipped bytes were hashed
    }

    @Test
    void retryPolicyBacksOffExponentiallyWithCap() {
        RetryPolicy p = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(350));
        assertEquals(List.of(100L, 200L, 350L, 350L), List.of(p.backoff(1).toMillis(), p.backoff(2).toMillis(),
                p.backoff(3).toMillis(), p.backoff(4).toMillis()));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(2, Duration.ofSeconds(2), Duration.ofSeconds(1)));
    }

    @Test
    void errorBodiesParseOrDegradeGracefully() {
        List<RegistryError> errs = RegistryException.parseErrors(("{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown\","
                + "\"detail\":{\"digest\":\"x\"}},{\"code\":\"DENIED\"}]}").getBytes());
        assertEquals(2, errs.size());
        assertEquals("BLOB_UNKNOWN", errs.get(0).code());
        assertEquals("{\"digest\":\"x\"}", errs.get(0).detail());
        assertEquals("DENIED", errs.get(1).code());
        for (String junk : new String[] {"", "<html>502</html>", "{\"errors\":5}", "{\"errors\":[1,\"x\"]}", "[", "null"}) {
            assertEquals(List.of(), RegistryException.parseErrors(junk.getBytes()), junk);
        }
        assertEquals(List.of(), RegistryException.parseErrors(TestImages.random(1, 10_000)));
        assertTrue(RegistryException.bodySnippet(TestImages.random(2, 300)).contains("non-text"));
    }
}
