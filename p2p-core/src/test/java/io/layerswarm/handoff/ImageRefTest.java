package io.layerswarm.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Image names as containerd stores them, pinned to a digest; names that must not reach a command line. */
class ImageRefTest {
    private static final String D = "sha256:" + "ab".repeat(32);

    @Test
    void namesWithTagsOrDigestsPinToTheDigest() {
        assertEquals("127.0.0.1:5000/clock@" + D, ImageRef.of("127.0.0.1:5000/clock:2", D).reference());
        assertEquals("reg.local/team/app@" + D, ImageRef.of("reg.local/team/app@sha256:" + "cd".repeat(32), D)
                .reference());
        assertEquals(new ImageRef("reg.local", "app", D), ImageRef.of("reg.local/app", D));
    }

    @Test
    void garbageIsRefused() {
        for (String name : List.of("clock:2", "/clock", "reg.local/", "reg.local/../x", "reg local/app",
                "reg.local/app;rm -rf", "reg.local/App")) {
            assertThrows(IllegalArgumentException.class, () -> ImageRef.of(name, D), name);
        }
        for (String digest : List.of("", "sha256:abc", "md5:" + "ab".repeat(16), "sha256:" + "AB".repeat(32))) {
            assertThrows(IllegalArgumentException.class, () -> ImageRef.of("reg.local/app:1", digest), digest);
        }
        assertThrows(IllegalArgumentException.class, () -> new ContainerConfig("-rf", ImageRef.of("r/a", D),
                List.of(), ""));
    }
}
