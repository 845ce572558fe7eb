package io.layerswarm.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AuthChallengeTest {

    @Test
    void parsesRegistryBearerChallenge() {
        List<AuthChallenge> cs = AuthChallenge.parse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                + "scope=\"repository:a/b:pull,push repository:c:pull\"");
        assertEquals(1, cs.size());
        AuthChallenge c = cs.get(0);
        assertEquals("bearer", c.scheme());
        assertEquals("https://auth.example/token", c.param("realm"));
        assertEquals("registry.example", c.param("SERVICE"));
        assertEquals(List.of("repository:a/b:pull,push", "repository:c:pull"), c.scopes());
    }

    @Test
    void handlesQuotingSpacingAndSeveralChallenges() {
        List<AuthChallenge> cs = AuthChallenge.parse("Basic realm=\"a, \\\"quoted\\\" realm\" ,  Bearer  realm = \"r\" , "
                + "error=insufficient_scope,scope=\"x:y:pull\", scope=\"z:w:push\"");
        assertEquals(2, cs.size());
        assertEquals("basic", cs.get(0).scheme());
        assertEquals("a, \"quoted\" realm", cs.get(0).param("realm"));
        assertEquals("bearer", cs.get(1).scheme());
        assertEquals("insufficient_scope", cs.get(1).param("error"));
        assertEquals(List.of("x:y:pull", "z:w:push"), cs.get(1).scopes());
        assertEquals(List.of(), AuthChallenge.parse("Basic").get(0).scopes());
    }

    @Test
    void rejectsGarbage() {
        for (String bad : new String[] {"", "   ", "Bearer realm=\"unterminated", "Bearer realm=\"x\" service=\"y\"",
                "Bearer realm=\"a\",realm=\"b\"", "=\"x\"", "Bearer realm=\"x\u0001\"", "Bearer realm=\"x\",\"y\"",
                "x".repeat(9000), "Bearer " + "a=b,".repeat(40), "Bearer realm=a\"b"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AuthChallenge.parse(bad), bad);
            assertTrue(e.getMessage().contains("WWW-Authenticate"), e.getMessage());
            assertTrue(e.getMessage().length() < 400, "bounded message");
        }
        Random rnd = new Random(3);
        String alphabet = "Bearer realm=\",\\ \t scope:/\u00ff\u0000";
        for (int i = 0; i < 5000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = rnd.nextInt(60);
            for (int k = 0; k < n; k++) {
                sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            try {
                AuthChallenge.parse(sb.toString()).forEach(c -> assertTrue(!c.scheme().isEmpty()));
            } catch (IllegalArgumentException expected) {
                // clean rejection
            }
        }
    }
}
