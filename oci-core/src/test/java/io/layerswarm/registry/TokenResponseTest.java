package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenResponseTest {
    static final URI REALM = URI.create("http://127.0.0.1:1/token");

    static RegistryAuth.Token parse(String json) throws RegistryException {
        return RegistryAuth.parseToken(json.getBytes(StandardCharsets.UTF_8), REALM);
    }

    @Test
    void readsTokenOrAccessTokenWithBoundedLifetime() throws Exception {
        assertEquals("abc.def.ghi", parse("{\"token\":\"abc.def.ghi\",\"expires_in\":300}").value());
        assertEquals("xyz", parse("{\"access_token\":\"xyz\"}").value());
        Instant now = Instant.now();
        RegistryAuth.Token huge = parse("{\"token\":\"t\",\"expires_in\":99999999999}");
        assertTrue(huge.expires().isBefore(now.plus(Duration.ofHours(25))), "lifetime capped at a day");
        RegistryAuth.Token negative = parse("{\"token\":\"t\",\"expires_in\":-5}");
        assertTrue(negative.expires().isBefore(now.plus(Duration.ofSeconds(61))), "bad lifetimes fall back to 60 s");
        RegistryAuth.Token bignum = parse("{\"token\":\"t\",\"expires_in\":1" + "0".repeat(400) + "}");
        assertTrue(bignum.expires().isBefore(now.plus(Duration.ofSeconds(61))));
    }

    @Test
    void rejectsGarbage() {
        for (String bad : new String[] {"", "[]", "null", "{}", "{\"token\":5}", "{\"token\":\"\"}", "{\"token\":\"a\\r\\nX-Evil: 1\"}",
                "{\"token\":\"a b\"}", "{\"token\":\"é\"}", "{\"token\":", "<html>"}) {
            RegistryException e = assertThrows(RegistryException.class, () -> parse(bad), bad);
            assertTrue(e.getMessage().contains("token") && e.getMessage().contains(REALM.toString()), e.getMessage());
        }
        Random rnd = new Random(9);
        for (int i = 0; i < 500; i++) {
            byte[] junk = new byte[rnd.nextInt(500)];
            rnd.nextBytes(junk);
            assertThrows(RegistryException.class, () -> RegistryAuth.parseToken(junk, REALM));
        }
    }

    @Test
    void scopesAreMergedPerResource() {
        assertEquals(java.util.List.of("repository:a/b:pull,push", "repository:c:pull", "registry:catalog:*", "weird"),
                java.util.List.copyOf(RegistryAuth.mergeScopes(java.util.List.of("repository:a/b:push,pull",
                        "repository:c:pull", "repository:a/b:pull", "registry:catalog:*", "weird", " ", "repository:c:pull"))));
    }
}
