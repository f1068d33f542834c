package org.imagingpipeline.retrain;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Trains a {@link UNet} with DJL (PyTorch engine, CPU): Dice + BCE loss, Adam, augmentation, validation
 * Dice per patient after every epoch, early stopping, best-weights checkpoint. Every batch lives in its own
 * child NDManager that is closed after the step, and the Adam update ({@link AdamStep}) scopes its temporaries the same way, so native memory
 * stays flat.
 */
public final class UNetTrainer {

    /** One epoch's summary. */
    public record EpochLog(int epoch, long steps, double meanLoss, double valDice, double seconds, long rssMb,
                           long heapMb, long nativeMb) { }

    /** The outcome; holds the DJL model (close it when done). */
    public record Result(Model model, UNet net, List<EpochLog> epochs, long steps, double seconds,
                         double bestValDice, int bestEpoch, double firstLoss, double lastLoss, long peakRssMb,
                         int trainSlices, String stopReason) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /** Slices of one patient at the training size. */
    private record Prepared(String site, String patient, List<float[]> images, List<byte[]> masks) { }

    /** Population statistics from a seeded sample of this many training slices (as AdaBN's source reference). */
    static final int RECALIBRATION_SLICES = 1024;

    private final TrainConfig cfg;
    private final ProgressBar bar;

    public UNetTrainer(TrainConfig cfg, ProgressBar bar) {
        this.cfg = cfg.validate();
        this.bar = bar;
    }

    private List<Prepared> prepare(List<SliceDataset.Volume> volumes) {
        List<Prepared> out = new ArrayList<>();
        int s = cfg.size();
        for (SliceDataset.Volume v : volumes) {
            List<float[]> im = new ArrayList<>();
            List<byte[]> ms = new ArrayList<>();
            for (int i = 0; i < v.images().size(); i++) {
                im.add(Resampler.resize(v.images().get(i), v.width(), v.height(), s, s));
                ms.add(Resampler.resizeMask(v.masks().get(i), v.width(), v.height(), s, s));
            }
            out.add(new Prepared(v.ref().site(), v.ref().patientId(), im, ms));
        }
        return out;
    }

    public Result train(List<SliceDataset.Volume> trainVolumes, List<SliceDataset.Volume> valVolumes) {
        if (trainVolumes.isEmpty()) {
            throw new DataException("no training patients");
        }
        List<Prepared> train = prepare(trainVolumes);
        List<Prepared> val = prepare(valVolumes);
        List<float[]> images = new ArrayList<>();
        List<byte[]> masks = new ArrayList<>();
        // The training slices' indices per site (sorted by site name), for one-site batches and per-site statistics.
        Map<String, List<Integer>> bySite = new java.util.TreeMap<>();
        for (Prepared p : train) {
            for (int i = 0; i < p.images().size(); i++) {
                bySite.computeIfAbsent(p.site(), k -> new ArrayList<>()).add(images.size() + i);
            }
            images.addAll(p.images());
            masks.addAll(p.masks());
        }
        if (cfg.domainBatches() && bySite.size() < 2) {
            throw new DataException("--domain-batches needs training patients of at least two sites, got "
                    + String.join(",", bySite.keySet()));
        }
        int n = images.size();
        int s = cfg.size();
        int b = cfg.batch();
        int stepsPerEpoch = cfg.stepsPerEpoch() > 0 ? cfg.stepsPerEpoch() : (n + b - 1) / b;
        long plannedSteps = (long) stepsPerEpoch * cfg.epochs();
        if (cfg.maxSteps() > 0) {
            plannedSteps = Math.min(plannedSteps, cfg.maxSteps());
        }
        bar.message(String.format(Locale.ROOT,
                "train: %d training patients (%d slices), %d validation patients; input %dx%d, batch %d, "
                        + "%d steps/epoch, up to %d epochs / %d steps%s; augmentation: %s%s",
                train.size(), n, val.size(), s, s, b, stepsPerEpoch, cfg.epochs(), plannedSteps,
                cfg.maxMinutes() > 0 ? String.format(Locale.ROOT, " / %.0f min", cfg.maxMinutes()) : "",
                new Augmenter(cfg.augment(), cfg.intensityAugment(), cfg.acquisitionAug()).describe(),
                cfg.domainBatches() ? "; one site per batch (" + String.join(", ", bySite.keySet()) + " in turn)" : ""));

        // Weight initialisation from the seed too, so a run repeats (up to multi-threaded float summation order).
        ai.djl.engine.Engine.getEngine("PyTorch").setRandomSeed((int) cfg.seed());
        UNet net = new UNet(cfg.baseFilters(), cfg.depth());
        Model model = Model.newInstance("unet", Device.cpu(), "PyTorch");
        model.setBlock(net);
        boolean ok = false;
        try {
            Result r = loop(model, net, images, masks, bySite, val, stepsPerEpoch, plannedSteps);
            ok = true;
            return r;
        } finally {
            if (!ok) {
                model.close();
            }
        }
    }

    private Result loop(Model model, UNet net, List<float[]> images, List<byte[]> masks, Map<String, List<Integer>> bySite,
                        List<Prepared> val, int stepsPerEpoch, long plannedSteps) {
        int s = cfg.size();
        int b = cfg.batch();
        int n = images.size();
        Random rnd = new Random(cfg.seed());
        Augmenter aug = new Augmenter(cfg.augment(), cfg.intensityAugment(), cfg.acquisitionAug());
        DefaultTrainingConfig tc = new DefaultTrainingConfig(new DiceBceLoss())
                .optOptimizer(ai.djl.training.optimizer.Optimizer.adam().optLearningRateTracker(
                        ai.djl.training.tracker.Tracker.fixed(cfg.learningRate())).build())
                .optDevices(new Device[] {Device.cpu()});
        List<EpochLog> logs = new ArrayList<>();
        long t0 = System.nanoTime();
        long step = 0;
        double firstLoss = Double.NaN;
        double recentLoss = Double.NaN;
        double bestVal = -1;
        int bestEpoch = 0;
        Map<String, float[]> best = null;
        String stop = "epochs done";
        try (Trainer trainer = model.newTrainer(tc)) {
            trainer.initialize(new Shape(b, 1, s, s));
            NDManager root = trainer.getManager();
            AdamStep adam = new AdamStep(cfg.learningRate());
            // Diagnostic switch for memory comparisons: -Dretrain.optimizer=djl uses DJL's Trainer.step().
            boolean djlStep = "djl".equals(System.getProperty("retrain.optimizer"));
            BatchSchedule schedule = cfg.domainBatches() ? new BatchSchedule(List.copyOf(bySite.values()), rnd)
                    : BatchSchedule.mixed(n, rnd);
            float[] x = new float[b * s * s];
            float[] y = new float[b * s * s];
            float[] outImg = new float[s * s];
            float[] outMask = new float[s * s];
            int sinceBest = 0;
            outer:
            for (int epoch = 1; epoch <= cfg.epochs(); epoch++) {
                double lossSum = 0;
                int lossCount = 0;
                double diceEma = Double.NaN;
                long te = System.nanoTime();
                for (int k = 0; k < stepsPerEpoch; k++) {
                    schedule.beginBatch();
                    for (int j = 0; j < b; j++) {
                        int idx = schedule.nextSlice();
                        aug.apply(images.get(idx), masks.get(idx), s, s, rnd, outImg, outMask);
                        System.arraycopy(outImg, 0, x, j * s * s, s * s);
                        System.arraycopy(outMask, 0, y, j * s * s, s * s);
                    }
                    float lossValue;
                    float batchDice;
                    try (NDManager bm = root.newSubManager()) {
                        NDArray xa = bm.create(x, new Shape(b, 1, s, s));
                        NDArray ya = bm.create(y, new Shape(b, 1, s, s));
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDArray logits = trainer.forward(new NDList(xa)).singletonOrThrow();
                            NDArray loss = trainer.getLoss().evaluate(new NDList(ya), new NDList(logits));
                            gc.backward(loss);
                            lossValue = loss.getFloat();
                            NDArray pred = logits.gt(0f).toType(DataType.FLOAT32, false);
                            float inter = pred.mul(ya).sum().getFloat();
                            float denom = pred.sum().getFloat() + ya.sum().getFloat();
                            batchDice = denom == 0 ? 1f : 2 * inter / denom;
                        }
                        if (djlStep) {
                            trainer.step();
                        } else {
                            adam.learningRate(cfg.learningRateAt(step + 1, plannedSteps));
                            adam.step(net, root);
                        }
                    }
                    if (!Float.isFinite(lossValue)) {
                        throw new IllegalStateException("loss became " + lossValue + " at step " + (step + 1)
                                + "; try a smaller --lr");
                    }
                    step++;
                    if (step == 1) {
                        firstLoss = lossValue;
                    }
                    recentLoss = Double.isNaN(recentLoss) ? lossValue : 0.9 * recentLoss + 0.1 * lossValue;
                    diceEma = Double.isNaN(diceEma) ? batchDice : 0.9 * diceEma + 0.1 * batchDice;
                    lossSum += lossValue;
                    lossCount++;
                    double elapsed = (System.nanoTime() - t0) / 1e9;
                    double perStep = elapsed / step;
                    long total = plannedSteps;
                    if (cfg.maxMinutes() > 0) {
                        total = Math.min(total, (long) Math.ceil(cfg.maxMinutes() * 60 / perStep));
                    }
                    bar.update(ProgressBar.Phase.TRAIN, epoch, cfg.epochs(), step, total, recentLoss, "dice", diceEma, perStep,
                            (total - step) * perStep, false);
                    if (cfg.maxSteps() > 0 && step >= cfg.maxSteps()) {
                        stop = "max steps " + cfg.maxSteps();
                    } else if (cfg.maxMinutes() > 0 && elapsed >= cfg.maxMinutes() * 60) {
                        stop = String.format(Locale.ROOT, "time limit %.1f min", cfg.maxMinutes());
                    } else {
                        continue;
                    }
                    // Stopping mid-epoch: still validate this epoch below.
                    epochEnd(trainer, net, val, epoch, step, lossSum / lossCount, te, logs);
                    EpochLog last = logs.get(logs.size() - 1);
                    if (val.isEmpty() || !cfg.selectBest() || last.valDice() > bestVal) {
                        bestVal = last.valDice();
                        bestEpoch = epoch;
                        best = snapshot(net);
                    }
                    break outer;
                }
                epochEnd(trainer, net, val, epoch, step, lossSum / lossCount, te, logs);
                EpochLog last = logs.get(logs.size() - 1);
                if (val.isEmpty() || !cfg.selectBest() || last.valDice() > bestVal) {
                    bestVal = last.valDice();
                    bestEpoch = epoch;
                    best = snapshot(net);
                    sinceBest = 0;
                    checkpoint(model, epoch);
                } else if (cfg.selectBest() && cfg.patience() > 0 && ++sinceBest >= cfg.patience()) {
                    stop = "early stop: no better validation Dice for " + cfg.patience() + " epochs";
                    break;
                }
            }
        }
        if (best != null) {
            restore(net, best);
        }
        if (cfg.bnRecalibrate() && cfg.domainBatches()) {
            recalibratePerSite(net, model.getNDManager(), images, bySite);
        } else if (cfg.bnRecalibrate()) {
            List<float[]> sample = new ArrayList<>(images);
            Collections.shuffle(sample, new Random(cfg.seed()));
            sample = sample.subList(0, Math.min(RECALIBRATION_SLICES, sample.size()));
            bar.message(String.format(Locale.ROOT, "train: batch-norm statistics recalibrated on %d of the %d un-augmented "
                    + "training slices (were a moving average over the last augmented batches)", sample.size(), images.size()));
            AdaBn.reestimate(net, model.getNDManager(), sample, s, 16, cfg.seed(), AdaBn.Scope.ALL, 1.0, bar);
        }
        if (cfg.bnRecalibrate()) {
            if (!val.isEmpty()) {
                double recal = validate(model, val);
                bar.message(String.format(Locale.ROOT, "train: validation Dice (%dx%d) %.4f with the recalibrated "
                        + "statistics, %.4f before", s, s, recal, bestVal));
                bestVal = recal;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        bar.message(String.format(Locale.ROOT, "train: stopped (%s) after %d steps in %s; best validation Dice %.4f"
                + " (epoch %d); peak RSS %d MB", stop, step, ProgressBar.time(seconds), bestVal, bestEpoch,
                Memory.peakRssMb()));
        return new Result(model, net, logs, step, seconds, bestVal, bestEpoch, firstLoss, recentLoss,
                Memory.peakRssMb(), n, stop);
    }

    /**
     * Domain-specific batch normalisation's statistics for a site nobody has seen yet: each site's population statistics
     * (plain AdaBN over all layers on a seeded sample of its un-augmented slices, from the trained network), then per
     * channel the mean over sites of their means and of their variances - the statistics of a typical site, without the
     * spread between sites that pooled statistics would add and that one-site batches never showed the network.
     */
    private void recalibratePerSite(UNet net, NDManager manager, List<float[]> images, Map<String, List<Integer>> bySite) {
        BnSnapshot trained = BnSnapshot.of(net);
        Map<String, float[][]> sum = new LinkedHashMap<>();
        int perSite = Math.max(1, RECALIBRATION_SLICES / bySite.size());
        for (Map.Entry<String, List<Integer>> site : bySite.entrySet()) {
            List<Integer> idx = new ArrayList<>(site.getValue());
            Collections.shuffle(idx, new Random(cfg.seed()));
            List<float[]> sample = new ArrayList<>();
            for (int i : idx.subList(0, Math.min(perSite, idx.size()))) {
                sample.add(images.get(i));
            }
            trained.restore(net, name -> true);
            AdaBn.reestimate(net, manager, sample, cfg.size(), 16, cfg.seed(), AdaBn.Scope.ALL, 1.0, bar);
            net.namedUnits().forEach((name, u) -> {
                float[] m = u.bn().getParameters().get("runningMean").getArray().toFloatArray();
                float[] v = u.bn().getParameters().get("runningVar").getArray().toFloatArray();
                float[][] acc = sum.computeIfAbsent(name, k -> new float[][] {new float[m.length], new float[v.length]});
                for (int c = 0; c < m.length; c++) {
                    acc[0][c] += m[c] / bySite.size();
                    acc[1][c] += v[c] / bySite.size();
                }
            });
        }
        net.namedUnits().forEach((name, u) -> {
            u.bn().getParameters().get("runningMean").getArray().set(sum.get(name)[0]);
            u.bn().getParameters().get("runningVar").getArray().set(sum.get(name)[1]);
        });
        bar.message(String.format(Locale.ROOT, "train: batch-norm statistics set to the mean over %d sites (%s) of each "
                + "site's population statistics (up to %d un-augmented slices per site)", bySite.size(),
                String.join(", ", bySite.keySet()), perSite));
    }

    private void epochEnd(Trainer trainer, UNet net, List<Prepared> val, int epoch, long step, double meanLoss,
                          long te, List<EpochLog> logs) {
        double valDice = val.isEmpty() ? Double.NaN : validate(trainer.getModel(), val);
        double secs = (System.nanoTime() - te) / 1e9;
        logs.add(new EpochLog(epoch, step, meanLoss, valDice, secs, Memory.rssMb(), Memory.heapUsedMb(),
                Memory.nativeMb()));
        bar.message(String.format(Locale.ROOT, "epoch %d: steps %d, mean loss %.4f, validation Dice (per patient, "
                + "%dx%d) %.4f, %.0f s, RSS %d MB (JVM heap used %d MB)", epoch, step, meanLoss, cfg.size(), cfg.size(),
                valDice, secs, Memory.rssMb(), Memory.heapUsedMb()));
    }

    private void checkpoint(Model model, int epoch) {
        if (cfg.checkpointDir() == null) {
            return;
        }
        try {
            Files.createDirectories(cfg.checkpointDir());
            model.setProperty("Epoch", Integer.toString(epoch));
            model.save(cfg.checkpointDir(), "unet-best");
        } catch (IOException e) {
            bar.message("train: warning: checkpoint not written: " + e.getMessage());
        }
    }

    /** Mean per-patient 3D Dice of the current weights (inference mode) at the training size. */
    private double validate(Model model, List<Prepared> val) {
        ai.djl.training.ParameterStore ps = new ai.djl.training.ParameterStore(model.getNDManager(), false);
        int s = cfg.size();
        double sum = 0;
        for (Prepared p : val) {
            long inter = 0;
            long pr = 0;
            long tr = 0;
            for (int start = 0; start < p.images().size(); start += cfg.batch()) {
                int end = Math.min(p.images().size(), start + cfg.batch());
                float[] x = new float[(end - start) * s * s];
                for (int i = start; i < end; i++) {
                    System.arraycopy(p.images().get(i), 0, x, (i - start) * s * s, s * s);
                }
                float[] logits;
                try (NDManager bm = model.getNDManager().newSubManager()) {
                    NDArray xa = bm.create(x, new Shape(end - start, 1, s, s));
                    logits = model.getBlock().forward(ps, new NDList(xa), false).singletonOrThrow().toFloatArray();
                }
                for (int i = start; i < end; i++) {
                    byte[] m = p.masks().get(i);
                    int off = (i - start) * s * s;
                    for (int k = 0; k < m.length; k++) {
                        int q = logits[off + k] > 0 ? 1 : 0;
                        inter += q & m[k];
                        pr += q;
                        tr += m[k];
                    }
                }
            }
            sum += Dice.of(inter, pr, tr);
        }
        return sum / val.size();
    }

    private static Map<String, float[]> snapshot(UNet net) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (var pair : net.getParameters()) {
            m.put(pair.getKey(), pair.getValue().getArray().toFloatArray());
        }
        return m;
    }

    private static void restore(UNet net, Map<String, float[]> weights) {
        for (var pair : net.getParameters()) {
            Parameter p = pair.getValue();
            p.getArray().set(weights.get(pair.getKey()));
        }
    }
}
