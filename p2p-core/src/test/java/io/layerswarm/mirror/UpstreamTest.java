package io.layerswarm.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UpstreamTest {
    @Test
    void plainHttpNeedsLoopbackOrAnExplicitInsecureMark() {
        assertFalse(Upstream.parse("http://127.0.0.1:5000", null, null, false).insecure());
        Upstream.parse("http://localhost:5000", null, null, false);
        Upstream.parse("http://[::1]:5000", null, null, false);
        Upstream.parse("http://127.0.0.2:5000", null, null, false); // all of 127/8 is loopback
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Upstream.parse("http://10.0.0.7:5000", null, null, false));
        assertTrue(e.getMessage().contains("plain http is allowed only for loopback"), e.getMessage());
        assertTrue(e.getMessage().contains("--insecure-upstream http://10.0.0.7:5000"), e.getMessage());
        // names are not resolved, even ones that would resolve to loopback
        assertThrows(IllegalArgumentException.class, () -> Upstream.parse("http://registry.lan:5000", null, null, false));
        assertThrows(IllegalArgumentException.class, () -> Upstream.parse("http://127.0.0.1.nip.io", null, null, false));
        Upstream lan = Upstream.parse("http://registry.lan:5000", null, null, true);
        assertEquals("registry.lan:5000", lan.namespace());
        assertTrue(lan.insecure());
    }

    @Test
    void badUrlsAndCredentialsAreRefused() {
        for (String bad : new String[] {"", " ", "registry.example.com", "ftp://r.example.com", "http://", "::::",
                "https://r.example.com:99999999999", "\u0000"}) {
            assertThrows(IllegalArgumentException.class, () -> Upstream.parse(bad, null, null, true), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Upstream.parse("https://r.example.com", "u", null, false));
        assertThrows(IllegalArgumentException.class, () -> Upstream.parse("https://r.example.com", null, "p", false));
    }

    @Test
    void toStringHidesThePassword() {
        Upstream u = Upstream.parse("https://r.example.com", "ci", "s3cret", false);
        assertFalse(u.toString().contains("s3cret"), u.toString());
    }
}
