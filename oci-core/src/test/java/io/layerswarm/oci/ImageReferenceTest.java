package io.layerswarm.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ImageReferenceTest {
    static final String DIG = "sha256:" + "0123456789abcdef".repeat(4);

    @Test
    void parsesValidReferences() {
        ImageReference r = ImageReference.parse("127.0.0.1:5000/team/app:1.0");
        assertEquals("127.0.0.1:5000", r.registry());
        assertEquals("team/app", r.repository());
        assertEquals("1.0", r.tag());
        assertNull(r.digest());
        assertEquals("1.0", r.reference());

        r = ImageReference.parse("registry.example.com/a/b/c@" + DIG);
        assertEquals("registry.example.com", r.registry());
        assertEquals("a/b/c", r.repository());
        assertEquals(DIG, r.reference());

        r = ImageReference.parse("localhost/app:v1@" + DIG);
        assertEquals("localhost", r.registry());
        assertEquals("v1", r.tag());
        assertEquals(DIG, r.reference(), "digest wins over tag");
        assertEquals("localhost/app:v1@" + DIG, r.toString());

        r = ImageReference.parse("library/alpine");
        assertNull(r.registry());
        assertEquals("library/alpine", r.repository());
        assertEquals("latest", r.reference());
        assertEquals("reg:443/library/alpine", r.withRegistry("reg:443").toString());

        r = ImageReference.parse("[::1]:5000/x__y.z-w--v/a_b:Tag_1.2-x");
        assertEquals("[::1]:5000", r.registry());
        assertEquals("x__y.z-w--v/a_b", r.repository());
        assertEquals("Tag_1.2-x", r.tag());
    }

    static void bad(String ref, String fragment) {
        OciFormatException e = assertThrows(OciFormatException.class, () -> ImageReference.parse(ref), ref);
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
        assertTrue(e.getMessage().length() < 600, "bounded message");
    }

    @Test
    void rejectsInvalidReferences() {
        bad("", "empty");
        bad("Upper/app", "repository component 'Upper'");
        bad("host:5000/App", "repository component 'App'");
        bad("host:5000/app:", "empty tag");
        bad("host:5000/app:-bad", "invalid tag");
        bad("host:5000/app:" + "t".repeat(129), "invalid tag");
        bad("host:5000/app@sha256:short", "invalid image reference");
        bad("host:5000/app@", "invalid image reference");
        bad("host:99999/app", "registry port");
        bad("host:0/app", "registry port");
        bad("host:abc/app", "registry port");
        bad("-bad.host/app", "not a valid host name");
        bad("a..b/app", "not a valid host name");
        bad("host:5000//app", "repository component ''");
        bad("host:5000/app/", "repository component ''");
        bad("host:5000/a--/b", "repository component 'a--'");
        bad("host:5000/a._b", "repository component 'a._b'");
        bad("host:5000/" + "a".repeat(256), "over 255");
        bad("x".repeat(5000), "over 1024");
        bad("host:5000/app\u0000:1", "repository component");
    }

    @Test
    void randomGarbageIsRejectedOrValid() {
        Random rnd = new Random(7);
        String alphabet = "aZ09:/@.-_[]%\u00e9 \n";
        for (int i = 0; i < 5000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = rnd.nextInt(40);
            for (int k = 0; k < n; k++) {
                sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            try {
                ImageReference r = ImageReference.parse(sb.toString());
                assertEquals(r, ImageReference.parse(r.toString()), "round trip of " + sb);
            } catch (OciFormatException expected) {
                // fine: a clean, specific error
            }
        }
    }

    @Test
    void platformParsing() {
        assertEquals(new Platform("linux", "arm64", "v8"), Platform.parse("linux/arm64/v8"));
        assertEquals(Platform.linuxAmd64(), Platform.parse("linux/amd64"));
        for (String bad : new String[] {"linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64", "x".repeat(500)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Platform.parse(bad), bad);
            assertTrue(e.getMessage().contains("platform"), e.getMessage());
        }
    }
}
