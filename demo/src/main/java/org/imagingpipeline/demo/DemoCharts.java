package org.imagingpipeline.demo;

import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.Histogram;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's charts, rendered with XChart to PNG and embedded as data URIs. */
final class DemoCharts {
    private static final int W = 760;
    private static final int H = 380;

    private DemoCharts() {
    }

    static String dataUri(Chart<?, ?> chart) throws IOException {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }

    /** Grouped bars: per site folder, Dice of the source model and of the adapted model (when one exists). */
    static CategoryChart dice(List<String> folders, List<Double> source, List<Double> adapted) {
        CategoryChart c = new CategoryChartBuilder().width(W).height(H).title("Per-patient Dice by site (demo's own masks)")
                .xAxisTitle("site (SIMULATED = acquisition profile applied by the demo)").yAxisTitle("mean Dice").build();
        c.getStyler().setYAxisMin(0.0).setYAxisMax(1.0).setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        c.addSeries("source model", folders, zeroForNull(source));
        if (adapted.stream().anyMatch(java.util.Objects::nonNull)) c.addSeries("adapted model (promoted)", folders, zeroForNull(adapted));
        return c;
    }

    private static List<Double> zeroForNull(List<Double> xs) {
        return xs.stream().map(x -> x == null ? 0.0 : x).toList();
    }

    /** Drift score over time per domain (minutes since the first series), with the moments domains were flagged. */
    static XYChart drift(Map<String, List<double[]>> pointsByDomain, Map<String, Double> flaggedAtMinute) {
        XYChart c = new XYChartBuilder().width(W).height(H).title("Drift score per domain decision (vertical lines: DRIFT_CONFIRMED)")
                .xAxisTitle("minutes since the first series").yAxisTitle("drift score").build();
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
        for (Map.Entry<String, List<double[]>> e : pointsByDomain.entrySet()) {
            if (e.getValue().isEmpty()) continue;
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            e.getValue().forEach(p -> {
                x.add(p[0]);
                y.add(p[1]);
            });
            XYSeries s = c.addSeries(e.getKey(), x, y);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        if (c.getSeriesMap().isEmpty()) c.addSeries("no drift scores reported", List.of(0.0), List.of(0.0));
        flaggedAtMinute.forEach((d, m) -> c.addAnnotation(new org.knowm.xchart.AnnotationLine(m, true, false)));
        return c;
    }

    /** Histogram of end-to-end latency (series complete -> DiagnosticReport stored). */
    static CategoryChart latency(List<Double> seconds) {
        CategoryChart c = new CategoryChartBuilder().width(W).height(H).title("Latency: series complete -> report stored in the EHR")
                .xAxisTitle("seconds").yAxisTitle("series").build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setXAxisDecimalPattern("0.0");
        if (seconds.isEmpty()) {
            c.addSeries("latency", List.of("none"), List.of(0));
            return c;
        }
        double max = seconds.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        Histogram h = new Histogram(seconds, 15, 0, Math.max(max, 1e-3) * 1.0001);
        c.addSeries("latency", h.getxAxisData(), h.getyAxisData());
        return c;
    }

    /** Cumulative series sent (completed) and reports stored over time. */
    static XYChart throughput(List<Double> completedMinutes, List<Double> reportedMinutes, Map<String, Double> phases) {
        XYChart c = new XYChartBuilder().width(W).height(H).title("Throughput: series completed and reports stored (cumulative)")
                .xAxisTitle("minutes since the first series").yAxisTitle("series").build();
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        cumulative(c, "series complete (streams)", completedMinutes, Color.GRAY);
        cumulative(c, "reports stored (EHR)", reportedMinutes, new Color(0, 110, 0));
        phases.forEach((label, m) -> c.addAnnotation(new org.knowm.xchart.AnnotationLine(m, true, false)));
        return c;
    }

    private static void cumulative(XYChart c, String name, List<Double> minutes, Color color) {
        List<Double> xs = minutes.stream().sorted().toList();
        if (xs.isEmpty()) return;
        List<Double> ys = new ArrayList<>();
        for (int i = 0; i < xs.size(); i++) ys.add((double) (i + 1));
        XYSeries s = c.addSeries(name, xs, ys);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(color);
    }
}
