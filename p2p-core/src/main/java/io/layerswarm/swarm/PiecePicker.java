package io.layerswarm.swarm;

import java.util.BitSet;
import java.util.Random;

/** Chooses which piece to request next from a source. Policy only: it keeps no state of its own. */
public interface PiecePicker {

    /**
     * @param candidates pieces the source holds that are still wanted (never empty)
     * @param availability for each piece, how many known sources hold it
     * @param random tie-breaker, so that downloaders spread over different pieces
     * @return one of the candidates
     */
    int pick(BitSet candidates, int[] availability, Random random);

    /** The piece fewest sources hold first, so rare pieces spread before their holders leave. */
    static PiecePicker rarestFirst() {
        return (candidates, availability, random) -> {
            int best = -1;
            int ties = 0;
            for (int i = candidates.nextSetBit(0); i >= 0; i = candidates.nextSetBit(i + 1)) {
                if (best < 0 || availability[i] < availability[best]) {
                    best = i;
                    ties = 1;
                } else if (availability[i] == availability[best] && random.nextInt(++ties) == 0) {
                    best = i; // reservoir sampling among equally rare pieces
                }
            }
            return best;
        };
    }

    /** The lowest-numbered piece first, for consumers that stream the blob (e.g. extract while downloading). */
    static PiecePicker inOrder() {
        return (candidates, availability, random) -> candidates.nextSetBit(0);
    }
}
