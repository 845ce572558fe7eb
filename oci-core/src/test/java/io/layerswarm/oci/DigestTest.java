package io.layerswarm.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DigestTest {

    @Test
    void sha256OfKnownInput() {
        Digest d = Digest.sha256("hello".getBytes(StandardCharsets.US_ASCII));
        assertEquals("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", d.toString());
        assertEquals(d, Digest.parse(d.toString()));
        assertTrue(d.matches(d.hashBytes()));
    }

    @Test
    void rejectsGarbage() {
        for (String bad : new String[] {"", "sha256", ":abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
                "sha256:ABCDEF", "sha256:" + "A".repeat(64), "sha256:" + "0".repeat(63),
                "sha512:" + "0".repeat(64), "sha256:" + "g".repeat(64), "x".repeat(500)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Digest.parse(bad), bad);
            assertTrue(e.getMessage().contains("digest"), e.getMessage());
        }
    }
}
