//! Pictures of training: the log-likelihood against the iteration, one line per run or
//! restart, as an SVG document (`trace.svg` of `emc run`, and `emc plot`).
//!
//! Drawn with plotters' SVG backend into a string. Its text is SVG `<text>` elements laid out
//! by plotters' font-free text metrics, so drawing reads no font files and needs none on the
//! machine; the viewer picks a sans-serif font.

use plotters::prelude::*;

/// One line of the picture: its name in the legend and its `(iteration, log-likelihood)`
/// points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Width and height of the picture, in SVG pixels.
pub const SIZE: (u32, u32) = (900, 560);

/// The series as an SVG document titled `title`. Points that are not finite numbers are
/// left out (a line may have none), so the axes always span real values; a legend is drawn
/// when there is more than one series.
pub fn trace_svg(title: &str, series: &[Series]) -> String {
    let mut svg = String::new();
    // Drawing into a string fails only on a layout error of plotters' own (a range it
    // cannot place); the text is then what was drawn so far, which is still a document.
    let _ = draw(&mut svg, title, series);
    svg
}

fn draw(
    svg: &mut String,
    title: &str,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let points = || series.iter().flat_map(|s| s.points.iter().filter(finite));
    let (x, y) = (
        Extent::of(points().map(|p| p.0)),
        Extent::of(points().map(|p| p.1)),
    );
    let x = x.padded(0.0);
    // A little air above and below, so the last iterations' line is not drawn on the frame.
    let y = y.padded(0.05);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(110)
        .build_cartesian_2d(x.low..x.high, y.low..y.high)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("log-likelihood")
        .x_label_formatter(&|v| integer_label(*v))
        .y_label_formatter(&|v| number_label(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let colour = colour(i);
        let line: Vec<(f64, f64)> = s.points.iter().filter(finite).copied().collect();
        let style = ShapeStyle::from(&colour).stroke_width(2);
        let drawn = chart.draw_series(LineSeries::new(line.clone(), style))?;
        if series.len() > 1 {
            drawn
                .label(s.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        // A run of a few iterations is a few points: marks make each one visible.
        if line.len() <= 40 {
            chart.draw_series(line.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// Line colours that stay apart from each other and from the white ground (Tableau's ten),
/// then plotters' palette.
fn colour(i: usize) -> RGBAColor {
    const TEN: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    match TEN.get(i) {
        Some(&(r, g, b)) => RGBColor(r, g, b).to_rgba(),
        None => Palette99::pick(i).to_rgba(),
    }
}

/// The range an axis shows.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Extent {
    low: f64,
    high: f64,
}

impl Extent {
    /// The smallest and largest value; [0, 1] when there is none.
    fn of(values: impl Iterator<Item = f64>) -> Extent {
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        if low > high {
            Extent {
                low: 0.0,
                high: 1.0,
            }
        } else {
            Extent { low, high }
        }
    }

    /// Widened by `share` of its width on each side; a single value gets a width of its
    /// own (an axis of width zero has no scale).
    fn padded(self, share: f64) -> Extent {
        let width = self.high - self.low;
        if width > 0.0 && width.is_finite() {
            let pad = width * share;
            return Extent {
                low: self.low - pad,
                high: self.high + pad,
            };
        }
        let pad = (self.low.abs() * 1e-3).max(0.5);
        Extent {
            low: self.low - pad,
            high: self.high + pad,
        }
    }
}

/// Iterations are whole numbers: a tick between two of them has no label.
fn integer_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// Log-likelihoods span from a few units to billions: plain digits up to a million, then
/// scientific notation, so a label never crowds its neighbours.
fn number_label(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v.abs() < 1e6 {
        let text = format!("{v:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.4e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, ys: &[f64]) -> Series {
        Series {
            label: label.to_string(),
            points: ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
        }
    }

    #[test]
    fn draws_every_series_with_a_legend() {
        let svg = trace_svg(
            "two runs",
            &[
                series("em", &[-10.0, -8.0, -7.5]),
                series("hard", &[-11.0, -9.0, -8.8, -8.7]),
            ],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("two runs"));
        assert!(
            svg.contains("\nem\n") && svg.contains("\nhard\n"),
            "legend: {svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 3 + 4, "a mark per point");
    }

    #[test]
    fn one_series_has_no_legend_and_odd_values_are_left_out() {
        let svg = trace_svg(
            "one",
            &[series("only", &[f64::NEG_INFINITY, -3.0, f64::NAN, -2.0])],
        );
        assert!(!svg.contains("\nonly\n"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        // A picture with no finite point, or a single one, still has axes of some width.
        for ys in [&[][..], &[-5.0][..], &[f64::NAN][..]] {
            let svg = trace_svg("flat", &[series("x", ys)]);
            assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
            assert!(!svg.contains("NaN"));
        }
    }

    #[test]
    fn extents_and_labels() {
        let e = Extent::of([3.0, -1.0, 2.0].into_iter());
        assert_eq!(
            e,
            Extent {
                low: -1.0,
                high: 3.0
            }
        );
        assert_eq!(
            e.padded(0.25),
            Extent {
                low: -2.0,
                high: 4.0
            }
        );
        assert_eq!(
            Extent::of(std::iter::empty()),
            Extent {
                low: 0.0,
                high: 1.0
            }
        );
        let flat = Extent::of([7.0].into_iter()).padded(0.05);
        assert!(flat.low < 7.0 && flat.high > 7.0);
        assert_eq!(integer_label(3.0), "3");
        assert_eq!(integer_label(2.5), "");
        assert_eq!(number_label(-1234.5), "-1234.5");
        assert_eq!(number_label(-2.0), "-2");
        assert_eq!(number_label(-3.5e9), "-3.5000e9");
    }
}
