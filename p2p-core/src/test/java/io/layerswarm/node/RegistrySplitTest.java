package io.layerswarm.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerId;
import io.layerswarm.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Which registry pieces a node takes when others fetch the same blob; the clock is the test's. */
class RegistrySplitTest {
    private static final long STALL = 10_000_000_000L;
    private static final Digest BLOB = Digest.sha256("a layer".getBytes(StandardCharsets.UTF_8));
    private static final int PIECES = 64;

    private static PeerId peer() {
        return PeerId.fromPublicKey(Ed25519PrivateKey.generate().publicKey());
    }

    private static RegistrySplit split(PeerId self) {
        return new RegistrySplit(self, BLOB, STALL, p -> false);
    }

    /** A piece that {@code late} is assigned once it knows {@code early}. */
    private static int pieceAssignedTo(RegistrySplit late) {
        return IntStream.range(0, PIECES).filter(late::assignedToMe).findFirst().orElseThrow();
    }

    /**
     * The CI race (registry 1.23x in PullThroughMirrorIT): {@code a} started alone, took every piece from
     * the registry and verified them; {@code b} joined, learned from {@code a}'s answer that it holds
     * them, but not yet their hashes (they travel in {@code a}'s own announces), so to {@code b} they
     * looked like nobody's, and those assigned to {@code b} went to the registry a second time.
     */
    @Test
    void aPieceAnotherFetcherVerifiedIsLeftToItWhileItsHashIsOnItsWay() {
        PeerId a = peer();
        PeerId b = peer();
        RegistrySplit atB = split(b);
        long t = 1_000;
        atB.fetcherSeen(a, t);
        int p = pieceAssignedTo(atB);
        assertTrue(atB.mayFetch(p, t), "assigned to b: without more, b asks the registry for it");
        atB.verifiedElsewhere(a, p, t);
        assertFalse(atB.mayFetch(p, t + 1), "a holds it: b must wait for its hash, not ask the registry");
        assertFalse(atB.mayFetch(p, t + STALL - 1));
        assertTrue(atB.mayFetch(p, t + STALL), "a hash that never comes costs the stall, not the blob");
    }

    /**
     * The early start: quiet nodes ask the registry before their claim rounds end for the pieces they win
     * among all connected peers. Each piece is won by exactly one node of the group, and that node is the
     * piece's assignee whichever of the peers turn out to fetch, so nobody else takes it later.
     */
    @Test
    void aPieceWonAmongAllPeersIsWonByOneAndStaysItsWhicheverOfThemFetch() {
        List<PeerId> group = IntStream.range(0, 5).mapToObj(i -> peer()).toList();
        Random r = new Random(11);
        for (int piece = 0; piece < PIECES; piece++) {
            List<PeerId> winners = new ArrayList<>();
            for (PeerId self : group) {
                if (split(self).assignedToMeAmong(group.stream().filter(p -> !p.equals(self)).toList(), piece)) {
                    winners.add(self);
                }
            }
            assertEquals(1, winners.size(), "piece " + piece + " won by " + winners);
            PeerId winner = winners.get(0);
            for (PeerId other : group) {
                if (other.equals(winner)) {
                    continue;
                }
                // the fetchers other knows of: the winner and some of the rest
                RegistrySplit atOther = split(other);
                atOther.fetcherSeen(winner, 0);
                group.stream().filter(p -> !p.equals(winner) && !p.equals(other) && r.nextBoolean())
                        .forEach(p -> atOther.fetcherSeen(p, 0));
                assertEquals(winner, atOther.assignee(piece));
                assertFalse(atOther.mayFetch(piece, 1), "left to the early fetcher");
            }
        }
    }

    @Test
    void aPieceAnotherFetcherAskedTheRegistryForIsLeftToItUntilItLeaves() {
        PeerId a = peer();
        PeerId b = peer();
        RegistrySplit atB = split(b);
        atB.fetcherSeen(a, 0);
        int p = pieceAssignedTo(atB);
        atB.requestedElsewhere(a, p, 5);
        assertFalse(atB.mayFetch(p, 6), "a joined before b and took it: b yields it although it is b's share");
        atB.left(a);
        assertTrue(atB.mayFetch(p, 7), "a disconnected: its piece is b's again at once");
    }

    @Test
    void aBannedFetcherKeepsNothingAndAQuietAssigneeLosesItsShareAfterTheStall() {
        PeerId a = peer();
        PeerId b = peer();
        Set<PeerId> banned = new HashSet<>();
        RegistrySplit atB = new RegistrySplit(b, BLOB, STALL, banned::contains);
        atB.fetcherSeen(a, 0);
        int mine = pieceAssignedTo(atB);
        int theirs = IntStream.range(0, PIECES).filter(i -> !atB.assignedToMe(i)).findFirst().orElseThrow();
        atB.requestedElsewhere(a, mine, 0);
        assertFalse(atB.mayFetch(mine, 1));
        banned.add(a);
        assertTrue(atB.mayFetch(mine, 1), "what a banned peer took is not left to it");
        assertFalse(atB.mayFetch(theirs, STALL - 1), "a's share waits while a may still be fetching");
        assertTrue(atB.mayFetch(theirs, STALL), "a announced nothing new for the stall: its share is free");
    }

    /**
     * Four fetchers join one at a time in every random order, with their announces (registry
     * requests, verified pieces) delivered late and in random order, as on a loaded machine: whatever
     * the interleaving, the registry is asked for each piece exactly once. A joiner knows what the
     * earlier ones took from their answers to its claim (a snapshot: pieces asked of the registry,
     * pieces verified); an earlier one knows the joiner from its claim.
     */
    @Test
    void theRegistryIsAskedForEachPieceOnceWhateverOrderFetchersJoinAndHearOfIt() {
        simulate(false);
    }

    /**
     * The same with claim rounds that take time (each claim and each answer an event delivered in random
     * order) and quiet starts: a node that has heard nothing of the blob asks the registry at once for
     * the pieces it wins among all its peers. Still each piece exactly once.
     */
    @Test
    void quietStartsBeforeTheClaimAnswersStillAskTheRegistryForEachPieceOnce() {
        simulate(true);
    }

    private static void simulate(boolean claimRoundsInFlight) {
        for (int seed = 0; seed < 300; seed++) {
            Random random = new Random(seed);
            int pieces = 5 + random.nextInt(8);
            List<SimNode> nodes = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                nodes.add(new SimNode(peer(), pieces));
            }
            List<Runnable> inFlight = new ArrayList<>();
            int[] registryRequests = new int[pieces];
            List<SimNode> waiting = new ArrayList<>(nodes);
            long now = 0;
            while (!waiting.isEmpty() || !inFlight.isEmpty() || anyCanRequest(nodes, pieces, now)) {
                now++;
                int choice = random.nextInt(3);
                if (choice == 0 && !waiting.isEmpty()) {
                    SimNode starter = waiting.remove(random.nextInt(waiting.size()));
                    if (claimRoundsInFlight) {
                        starter.startAsync(nodes, inFlight, now);
                    } else {
                        starter.start(nodes, now);
                    }
                } else if (choice == 1 && !inFlight.isEmpty()) {
                    inFlight.remove(random.nextInt(inFlight.size())).run();
                } else {
                    long t = now;
                    List<SimNode> able = nodes.stream().filter(n -> n.canRequest(pieces, t)).toList();
                    if (!able.isEmpty()) {
                        SimNode n = able.get(random.nextInt(able.size()));
                        int p = n.request(pieces, now);
                        registryRequests[p]++;
                        long at = now;
                        for (SimNode other : nodes) {
                            if (other != n) {
                                inFlight.add(() -> other.heardRequest(n.id, p, at));
                                // the registry answers at once; the verified piece is announced later
                                inFlight.add(() -> other.heardVerified(n.id, p, at));
                            }
                        }
                    }
                }
            }
            for (int p = 0; p < pieces; p++) {
                assertEquals(1, registryRequests[p], "seed " + seed + ": registry requests for piece " + p);
            }
        }
    }

    private static boolean anyCanRequest(List<SimNode> nodes, int pieces, long now) {
        return nodes.stream().anyMatch(n -> n.canRequest(pieces, now));
    }

    /** One fetcher in the simulation: only what decides registry requests. */
    private static final class SimNode {
        final PeerId id;
        final RegistrySplit split;
        final BitSet requested;
        final Set<PeerId> claimsHeard = new HashSet<>();
        boolean active;
        /** Whether the claim round is over. */
        boolean claimed;
        /** Set for a quiet start (nothing heard of the blob): the peers it may win pieces among before its claim round ends. */
        List<PeerId> earlyAmong;
        int answersPending;

        SimNode(PeerId id, int pieces) {
            this.id = id;
            this.split = split(id);
            this.requested = new BitSet(pieces);
        }

        /** Starts: claims to every other node, each applies it and answers with a snapshot of its state. */
        void start(List<SimNode> all, long now) {
            active = true;
            claimed = true;
            for (PeerId p : claimsHeard) {
                split.fetcherSeen(p, now);
            }
            for (SimNode other : all) {
                if (other == this) {
                    continue;
                }
                other.heardClaim(id, now);
                if (other.active) {
                    split.fetcherSeen(other.id, now);
                    // requested and verified are one set here: the registry answers every request at once
                    other.requested.stream().forEach(p -> split.verifiedElsewhere(other.id, p, now));
                }
            }
        }

        /**
         * Starts with the claim round in flight: each claim reaches its peer, and the peer's answer comes
         * back, as separate events in {@code inFlight}. A node that has heard nothing of the blob starts quiet.
         */
        void startAsync(List<SimNode> all, List<Runnable> inFlight, long now) {
            active = true;
            for (PeerId p : claimsHeard) {
                split.fetcherSeen(p, now);
            }
            List<SimNode> others = all.stream().filter(o -> o != this).toList();
            if (claimsHeard.isEmpty()) {
                earlyAmong = others.stream().map(o -> o.id).toList();
            }
            answersPending = others.size();
            for (SimNode other : others) {
                inFlight.add(() -> {
                    other.heardClaim(id, now);
                    boolean fetching = other.active;
                    BitSet taken = (BitSet) other.requested.clone();
                    inFlight.add(() -> {
                        if (fetching) {
                            split.fetcherSeen(other.id, now);
                            taken.stream().forEach(p -> split.verifiedElsewhere(other.id, p, now));
                        }
                        claimed = --answersPending == 0;
                    });
                });
            }
        }

        void heardClaim(PeerId from, long now) {
            if (active) {
                split.fetcherSeen(from, now);
            } else {
                claimsHeard.add(from);
            }
        }

        /** An announce reaching a node that has not started is kept only as "that peer fetches". */
        void heardRequest(PeerId from, int piece, long now) {
            if (active) {
                split.requestedElsewhere(from, piece, now);
            } else {
                claimsHeard.add(from);
            }
        }

        void heardVerified(PeerId from, int piece, long now) {
            if (active) {
                split.verifiedElsewhere(from, piece, now);
            } else {
                claimsHeard.add(from);
            }
        }

        boolean canRequest(int pieces, long now) {
            return active && next(pieces, now) >= 0;
        }

        int request(int pieces, long now) {
            int p = next(pieces, now);
            requested.set(p);
            return p;
        }

        private int next(int pieces, long now) {
            for (int p = requested.nextClearBit(0); p < pieces; p = requested.nextClearBit(p + 1)) {
                // the simulated clock stays far below the stall: no quiet assignee, no expired entry
                boolean roundOver = claimed || earlyAmong != null && split.assignedToMeAmong(earlyAmong, p);
                if (roundOver && split.mayFetch(p, now)) {
                    return p;
                }
            }
            return -1;
        }
    }
}
