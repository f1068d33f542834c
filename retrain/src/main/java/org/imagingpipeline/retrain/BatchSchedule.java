package org.imagingpipeline.retrain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Which training slices make up each batch. Either one pool of all slices (each epoch a fresh shuffle) or, for
 * domain-specific batch normalisation, one pool per site: every batch is drawn from one site's own shuffled order, the
 * sites taking turns batch by batch, so a training-mode batch norm always normalises one site by its own statistics
 * and small sites are seen as often as large ones.
 */
final class BatchSchedule {

    private final List<List<Integer>> pools;
    private final List<List<Integer>> orders = new ArrayList<>();
    private final int[] cursors;
    private final Random rnd;
    private long batches;
    private int pool = -1;

    /** @param pools slice indices per pool (none empty); @param rnd the training's random source (shuffles) */
    BatchSchedule(List<List<Integer>> pools, Random rnd) {
        if (pools.isEmpty() || pools.stream().anyMatch(List::isEmpty)) {
            throw new IllegalArgumentException("every pool needs slices");
        }
        this.pools = List.copyOf(pools);
        this.rnd = rnd;
        this.cursors = new int[pools.size()];
        for (int p = 0; p < pools.size(); p++) {
            orders.add(new ArrayList<>());
            cursors[p] = pools.get(p).size();
        }
    }

    /** All {@code n} slices in one pool. */
    static BatchSchedule mixed(int n, Random rnd) {
        List<Integer> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(i);
        }
        return new BatchSchedule(List.of(all), rnd);
    }

    /** Starts the next batch: its slices all come from the pool whose turn it is. */
    void beginBatch() {
        pool = (int) (batches++ % pools.size());
    }

    /**
     * The next slice of the current batch. Drawn one at a time, so that the random source's calls interleave with the
     * augmentation's exactly as they did before pools existed (a recorded training command still gives its model).
     */
    int nextSlice() {
        if (pool < 0) {
            throw new IllegalStateException("beginBatch() first");
        }
        List<Integer> order = orders.get(pool);
        if (cursors[pool] >= pools.get(pool).size()) {
            order.clear();
            order.addAll(pools.get(pool));
            Collections.shuffle(order, rnd);
            cursors[pool] = 0;
        }
        return order.get(cursors[pool]++);
    }

    /** The slice indices of the next batch of {@code size}. */
    int[] next(int size) {
        beginBatch();
        int[] out = new int[size];
        for (int j = 0; j < size; j++) {
            out[j] = nextSlice();
        }
        return out;
    }
}
