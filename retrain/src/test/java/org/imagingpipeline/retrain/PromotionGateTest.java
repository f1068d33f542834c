package org.imagingpipeline.retrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gate's decision rules on given evidence (the measuring is exercised by AdaptationTest). */
class PromotionGateTest {

    private final PromotionGate gate = new PromotionGate(PromotionGate.Config.defaults(), 1,
            new PrintStream(OutputStream.nullOutputStream()));

    private static PromotionGate.Side side(double source, double entropy, double tta, double plausible) {
        return new PromotionGate.Side(source, new TargetProxies.Measures(entropy, tta, List.of(1.0), Double.NaN, 0), plausible);
    }

    private static PromotionGate.Side labelled(double source, double dice) {
        return new PromotionGate.Side(source, new TargetProxies.Measures(0.1, 0.2, List.of(1.0), dice, 3), 0.5);
    }

    @Test
    void aCandidateBetterOnTwoProxiesAndWorseOnNonePasses() {
        // strong1 with the real DU model, AdaBN (results.md): entropy +1%, TTA disagreement -0.047, plausible volumes up
        PromotionGate.Decision d = gate.judge(side(0.5996, 0.078399, 0.2974, 0.5556), side(0.5996, 0.079182, 0.2499, 0.7778),
                0.5730, 9, 9);
        assertTrue(d.passed(), d.reasons().toString());
        assertEquals("source view", d.sourceCheck());
        assertEquals(0.573, d.sourceDiceAsServed(), 1e-9);
    }

    @Test
    void noMeaningfulChangeIsNotPromoted() {
        PromotionGate.Decision d = gate.judge(side(0.60, 0.0773, 0.1882, 0.8889), side(0.60, 0.0773, 0.1849, 0.8889), null, 9, 9);
        assertFalse(d.passed());
        assertTrue(d.reasons().contains("fail: rule A: 0 of the 3 target proxies better (needs 2, none worse)"), d.reasons().toString());
        assertEquals("fail: target side: neither rule A nor rule B passes", d.reasons().get(d.reasons().size() - 1));
        assertEquals("as served", d.sourceCheck());
    }

    @Test
    void aCollapsedCandidateIsCaughtByTheVolumes() {
        // "no lesion" anywhere: certain (entropy down) and stable (TTA down), but no plausible volume left
        PromotionGate.Decision d = gate.judge(side(0.20, 0.011, 0.30, 0.50), side(0.20, 0.0002, 0.0, 0.0), 0.0, 2, 4);
        assertFalse(d.passed());
        assertTrue(d.reasons().contains("fail: share of plausible lesion volumes 0.500 -> 0.000: worse"), d.reasons().toString());
        assertTrue(d.reasons().stream().anyMatch(r -> r.startsWith("fail: rule B (strong agreement)")),
                "TTA fell by 100% and entropy fell, but rule B also needs the volumes not worse: " + d.reasons());
    }

    @Test
    void oneProxyWorseRejectsEvenWhenTwoAreBetter() {
        PromotionGate.Decision d = gate.judge(side(0.6, 0.10, 0.20, 0.5), side(0.6, 0.08, 0.25, 0.8), null, 9, 9);
        assertFalse(d.passed());
        assertTrue(d.reasons().get(1).startsWith("pass: target mean entropy"));
        assertTrue(d.reasons().get(2).startsWith("fail: test-time-augmentation disagreement 0.2000 -> 0.2500 (+25.0%): worse"));
    }

    @Test
    void oneBetterProxySufficesWhenConfiguredAndNoneMayStillBeWorse() {
        // AdaBN on gamma 4 (AdaptationTest's shift, 4 CS patients; Dice 0.448 -> 0.489): only TTA disagreement moved
        PromotionGate.Side before = side(0.735, 0.00274, 0.1445, 1.0);
        PromotionGate.Side after = side(0.735, 0.00278, 0.1197, 1.0);
        assertFalse(gate.judge(before, after, 0.71, 16, 4).passed(), "the default needs two better proxies");
        PromotionGate one = new PromotionGate(new PromotionGate.Config(0.02, 0.05, 0.01, 0.02, 1, 0.25, 0.20), 1,
                new PrintStream(OutputStream.nullOutputStream()));
        PromotionGate.Decision d = one.judge(before, after, 0.71, 16, 4);
        assertTrue(d.passed(), d.reasons().toString());
        assertTrue(d.reasons().stream().anyMatch(r -> r.startsWith("pass: rule A: 1 of the 3 target proxies better (needs 1")),
                d.reasons().toString());
        assertFalse(one.judge(side(0.6, 0.10, 0.20, 0.5), side(0.6, 0.08, 0.25, 0.8), null, 9, 9).passed(),
                "a worse proxy still rejects");
        assertFalse(one.judge(side(0.60, 0.0773, 0.1882, 0.8889), side(0.60, 0.0773, 0.1849, 0.8889), null, 9, 9).passed(),
                "no better proxy: no promotion");
    }

    @Test
    void aStrongTtaFallPromotesDespiteASmallEntropyRise() {
        // tuning-half shift c04, standardise (gate-margin-decision.md): entropy +10.8% (rule A: worse), TTA -39%,
        // volumes unchanged; the candidate gained +0.032 Dice. Rule A alone vetoes it, rule B promotes it.
        PromotionGate.Side before = side(0.735, 0.00219, 0.1512, 0.875);
        PromotionGate.Side after = side(0.735, 0.00242, 0.0916, 0.875);
        PromotionGate.Decision d = gate.judge(before, after, 0.71, 16, 16);
        assertTrue(d.passed(), d.reasons().toString());
        assertTrue(d.reasons().contains("fail: rule A: 1 of the 3 target proxies better (needs 2, none worse)"), d.reasons().toString());
        assertEquals("pass: target side: rule B passes", d.reasons().get(d.reasons().size() - 1));
        PromotionGate ruleAOnly = new PromotionGate(PromotionGate.Config.defaults().withoutStrongAgreement(), 1,
                new PrintStream(OutputStream.nullOutputStream()));
        assertFalse(ruleAOnly.judge(before, after, 0.71, 16, 16).passed(), "rule B switched off: the entropy rise vetoes");
    }

    @Test
    void ruleBNeedsAllThreeOfItsConditionsAndTheSourceCheck() {
        PromotionGate.Side before = side(0.735, 0.00219, 0.1512, 0.875);
        assertFalse(gate.judge(before, side(0.735, 0.00219 * 1.25, 0.0916, 0.875), null, 16, 16).passed(),
                "entropy +25% is more than rule B accepts");
        assertFalse(gate.judge(before, side(0.735, 0.00242, 0.1512 * 0.80, 0.875), null, 16, 16).passed(),
                "TTA -20% is not a strong fall");
        assertFalse(gate.judge(before, side(0.735, 0.00242, 0.0916, 0.8125), null, 16, 16).passed(),
                "fewer plausible volumes");
        assertFalse(gate.judge(before, side(0.70, 0.00242, 0.0916, 0.875), null, 16, 16).passed(),
                "source Dice fell by more than the tolerance");
    }

    @Test
    void labelledDiceMustRiseByTheMarginAndTheSourceCheckStillApplies() {
        assertFalse(gate.judge(labelled(0.6, 0.6179), labelled(0.6, 0.6198), null, 9, 9).passed(), "+0.002 on 3 series is noise");
        PromotionGate.Decision d = gate.judge(labelled(0.6, 0.4336), labelled(0.6, 0.5044), null, 9, 9);
        assertTrue(d.passed(), d.reasons().toString());
        assertEquals(2, d.reasons().size(), "labels decide: no proxy lines");
        assertFalse(gate.judge(labelled(0.6, 0.4336), labelled(0.55, 0.5044), null, 9, 9).passed(), "source Dice fell by 0.05");
    }
}
