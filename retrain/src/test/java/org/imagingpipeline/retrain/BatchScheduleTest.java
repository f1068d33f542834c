package org.imagingpipeline.retrain;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Batch make-up in training: mixed batches as before pools existed, or one site per batch with the sites in turn. */
class BatchScheduleTest {

    @Test
    void mixedBatchesDrawTheSameSlicesAsTheTrainerAlwaysDid() {
        // The trainer's loop before BatchSchedule: a fresh seeded shuffle of 0..n-1 whenever the order ran out, the
        // random source shared with the augmentation (one call per slice here stands in for it).
        int n = 37;
        int batch = 8;
        Random legacyRnd = new Random(7);
        List<Integer> order = new ArrayList<>();
        int cursor = n;
        List<Integer> legacy = new ArrayList<>();
        List<Integer> legacyAug = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
            for (int j = 0; j < batch; j++) {
                if (cursor >= n) {
                    order.clear();
                    for (int i = 0; i < n; i++) {
                        order.add(i);
                    }
                    Collections.shuffle(order, legacyRnd);
                    cursor = 0;
                }
                legacy.add(order.get(cursor++));
                legacyAug.add(legacyRnd.nextInt(1000));
            }
        }
        Random rnd = new Random(7);
        BatchSchedule s = BatchSchedule.mixed(n, rnd);
        List<Integer> now = new ArrayList<>();
        List<Integer> nowAug = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
            s.beginBatch();
            for (int j = 0; j < batch; j++) {
                now.add(s.nextSlice());
                nowAug.add(rnd.nextInt(1000));
            }
        }
        assertEquals(legacy, now, "the slices of a recorded training command");
        assertEquals(legacyAug, nowAug, "and the augmentation's random numbers between them");
    }

    @Test
    void domainBatchesHoldOneSiteAndTheSitesTakeTurns() {
        List<Integer> big = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            big.add(i);
        }
        List<Integer> small = List.of(50, 51, 52, 53, 54, 55, 56);
        BatchSchedule s = new BatchSchedule(List.of(big, small), new Random(3));
        Set<Integer> seenBig = new HashSet<>();
        Set<Integer> seenSmall = new HashSet<>();
        List<Integer> smallDraws = new ArrayList<>();
        for (int k = 0; k < 14; k++) {
            int[] b = s.next(7);
            boolean fromBig = big.contains(b[0]);
            assertEquals(k % 2 == 0, fromBig, "batch " + k + " should come from site " + (k % 2));
            for (int i : b) {
                assertEquals(fromBig, big.contains(i), "one site per batch: " + java.util.Arrays.toString(b));
                (fromBig ? seenBig : seenSmall).add(i);
                if (!fromBig) {
                    smallDraws.add(i);
                }
            }
        }
        assertEquals(49, seenBig.size(), "7 batches of 7 from the large site: 49 different slices, none twice");
        assertEquals(Set.copyOf(small), seenSmall, "the small site is seen as often as the large one");
        for (int round = 0; round < 7; round++) {
            assertEquals(Set.copyOf(small), Set.copyOf(smallDraws.subList(round * 7, round * 7 + 7)),
                    "each pass over a site is a permutation of it");
        }
    }

    @Test
    void theSameSeedGivesTheSameBatchesAndEmptyPoolsAreRefused() {
        List<List<Integer>> pools = List.of(List.of(0, 1, 2, 3), List.of(4, 5, 6));
        BatchSchedule a = new BatchSchedule(pools, new Random(11));
        BatchSchedule b = new BatchSchedule(pools, new Random(11));
        for (int k = 0; k < 10; k++) {
            assertArrayEquals(a.next(5), b.next(5));
        }
        assertThrows(IllegalArgumentException.class, () -> new BatchSchedule(List.of(List.of(1), List.of()), new Random(1)));
        assertThrows(IllegalStateException.class, () -> new BatchSchedule(pools, new Random(1)).nextSlice());
    }
}
