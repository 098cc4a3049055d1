import Foundation

/// `index.html`: one section per photo with its panel and results, the summary per model, the
/// charts and links to every file. It works from disk: no scripts, fonts or URLs of other
/// machines, paths relative to the folder, every text HTML-escaped.
public enum GalleryPage {
    /// Escapes text for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A relative path as an attribute value: each component percent-encoded, then escaped.
    public static func href(_ path: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { String($0).addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }
            .joined(separator: "/")
        // ":" is encoded too, so no link can start with a scheme: every link stays relative.
        return escape(encoded)
    }

    private static let style = """
        body { font-family: "DejaVu Sans", sans-serif; margin: 1.5em; color: #222; background: #fff; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        img { max-width: 100%; height: auto; border: 1px solid #ddd; }
        .bad { color: #b00020; } .muted { color: #666; } .wrong { color: #b00020; font-weight: bold; } .right { color: #1b7a1b; }
        figure { margin: 1em 0; } figcaption { color: #555; font-size: .9em; }
        ul.files { columns: 2; font-size: .9em; }
        """

    /// The page for `results`, linking `charts`; `pending` photos are still to come.
    public static func html(_ results: GalleryResults, charts: [(file: String, caption: String)], pending: Int = 0) -> String {
        let e = escape
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>CAMKit gallery</title>\n<style>\n\(style)\n</style>\n</head>\n<body>\n"
        let explained = results.images.filter { !$0.isBad }.count
        h += "<h1>CAMKit gallery</h1>\n<p>\(explained) photo(s) explained with \(results.models.count) model(s): \(e(results.models.joined(separator: ", "))). "
        h += "Method \(e(results.method)), layer \(e(results.layer ?? "each model's default")), target \(e(results.target)).</p>\n"
        if pending > 0 {
            h += "<p class=\"muted\">Run not finished: \(pending) photo(s) still to come (a stopped run finishes with <code>--resume</code>).</p>\n"
        }

        let bad = results.badImages
        if !bad.isEmpty {
            h += "<h2 id=\"bad\" class=\"bad\">Files that could not be explained (\(bad.count))</h2>\n<ul>\n"
            for image in bad { h += "<li class=\"bad\"><b>\(e(image.file))</b>: \(e(image.error ?? ""))</li>\n" }
            h += "</ul>\n"
        }

        let records = results.confidenceRecords
        if !records.isEmpty {
            h += "<h2 id=\"summary\">Summary per model</h2>\n<table>\n<tr>"
            let headers = StatisticsTable.headers + ["right", "wrong", "not in classes", "no label"]
            h += headers.map { "<th>\(e($0))</th>" }.joined() + "</tr>\n"
            for s in ConfidenceStatistics.perModel(records) {
                let counts = results.verdictCounts(model: s.model)
                let cells = StatisticsTable.cells(s) + [Verdict.correct, .wrong, .notInClasses, .unlabelled].map { String(counts[$0] ?? 0) }
                h += "<tr>" + cells.map { "<td>\(e($0))</td>" }.joined() + "</tr>\n"
            }
            h += "</table>\n<p class=\"muted\">Accuracy counts only photos whose label names one of the model's classes; "
            h += "\"not in classes\" predictions are neither right nor wrong.</p>\n"
            for chart in charts {
                h += "<figure><img src=\"\(href(chart.file))\" alt=\"\(e(chart.caption))\"><figcaption>\(e(chart.caption))</figcaption></figure>\n"
            }
        }

        h += "<h2 id=\"photos\">Photos</h2>\n"
        for image in results.images {
            h += "<section>\n<h3>\(e(image.file))</h3>\n"
            if let truth = image.truth { h += "<p>Label: \(e(truth.text))</p>\n" }
            if let error = image.error {
                h += "<p class=\"bad\">Not explained: \(e(error))</p>\n</section>\n"
                continue
            }
            if let panel = image.panelFile {
                h += "<a href=\"\(href(panel))\"><img src=\"\(href(panel))\" alt=\"\(e("panel of " + image.file))\"></a>\n"
            }
            h += "<table>\n<tr><th>model</th><th>prediction</th><th>confidence</th><th>verdict</th><th>overlay</th></tr>\n"
            for r in image.results {
                let verdictClass = r.verdict == .wrong ? "wrong" : r.verdict == .correct ? "right" : "muted"
                let verdictText = r.verdict.reason ?? r.verdict.rawValue
                h += "<tr><td>\(e(r.model))</td><td>\(e(r.predictedLabel))</td><td>\(String(format: "%.3f", r.confidence))</td>"
                h += "<td class=\"\(verdictClass)\">\(e(verdictText))</td><td><a href=\"\(href(r.overlayFile))\">\(e(r.overlayFile))</a></td></tr>\n"
            }
            h += "</table>\n</section>\n"
        }

        h += "<h2 id=\"files\">Files</h2>\n<ul class=\"files\">\n"
        var files = [GalleryWriter.resultsCSV, GalleryWriter.resultsJSON] + charts.map(\.file)
        for image in results.images where !image.isBad {
            files += (image.panelFile.map { [$0] } ?? []) + image.results.map(\.overlayFile)
        }
        for file in files { h += "<li><a href=\"\(href(file))\">\(e(file))</a></li>\n" }
        h += "</ul>\n</body>\n</html>\n"
        return h
    }
}
