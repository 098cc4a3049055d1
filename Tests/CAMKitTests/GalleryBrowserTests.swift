import Foundation
import XCTest
import CAMKit

/// Opens a generated gallery in headless Chromium, from disk, with every host name made
/// unresolvable: the page must render and every picture on it must load.
final class GalleryBrowserTests: XCTestCase {
    static func chromium() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        return nil
    }

    /// Runs Chromium headless on `page`; returns its standard output. Killed after `timeout` seconds.
    func runChromium(_ chromium: URL, _ arguments: [String], page: URL, profile: URL, timeout: TimeInterval = 120) throws -> String {
        let process = Process()
        process.executableURL = chromium
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=\(profile.path)",
                             "--window-size=1200,2000"] + arguments + [page.absoluteString]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return String(decoding: data, as: UTF8.self)
    }

    func testGalleryOpensFromDiskWithEveryPictureLoaded() throws {
        guard let chromium = Self.chromium() else {
            throw XCTSkip("chromium is not installed (Debian package `chromium`, in `make deps`): the gallery page is not opened in a browser")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("gallery-browser-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let photos = work.appendingPathComponent("photos"), out = work.appendingPathComponent("gallery")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fixtureURL("images/photo.png"), to: photos.appendingPathComponent("photo one.png"))
        try FileManager.default.copyItem(at: fixtureURL("images/decode/baseline.jpg"), to: photos.appendingPathComponent("baseline.jpg"))
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: photos.appendingPathComponent("broken.png"))
        let run = GalleryRun(models: [GalleryTests.smallModel(name: "small-a"), GalleryTests.smallModel(name: "small-b")], output: out)
        run.truth = { _ in GroundTruth(breed: "Border_collie") }
        try run.run(try GalleryInputs.expand([photos.path]))

        let index = out.appendingPathComponent("index.html")
        let html = try String(contentsOf: index, encoding: .utf8)
        XCTAssertFalse(html.lowercased().contains("http:") || html.lowercased().contains("https:") || html.contains("//"),
                       "the page names no other machine")
        XCTAssertFalse(html.contains("<script"), "the page runs no scripts")
        let imageCount = html.components(separatedBy: "<img ").count - 1
        XCTAssertEqual(imageCount, 3 + 2, "three charts and two panels")

        // 1. The page itself, as a user opens it.
        let screenshot = work.appendingPathComponent("gallery.png")
        _ = try runChromium(chromium, ["--screenshot=\(screenshot.path)", "--virtual-time-budget=5000"], page: index,
                            profile: work.appendingPathComponent("profile1"))
        let shot = try Data(contentsOf: screenshot)
        XCTAssertGreaterThan(shot.count, 10_000, "a screenshot of a page with pictures")
        XCTAssertEqual(ImageDecoder.sniff(shot), .png)
        if let keep = ProcessInfo.processInfo.environment["CAMKIT_KEEP_GALLERY_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: keep))
        }

        // 2. A copy of the page next to it (same relative paths) with a script that records,
        //    after load, whether each picture decoded; the dumped DOM carries the answers.
        let probe = """
            <script>
            window.addEventListener('load', function () {
              var out = document.createElement('pre'); out.id = 'image-check';
              out.textContent = Array.prototype.map.call(document.images, function (img) {
                return (img.complete && img.naturalWidth > 0 ? 'LOADED ' : 'BROKEN ') + img.getAttribute('src');
              }).join('\\n');
              document.body.appendChild(out);
            });
            </script>
            """
        let check = out.appendingPathComponent("check-images.html")
        try Data(html.replacingOccurrences(of: "</body>", with: probe + "</body>").utf8).write(to: check)
        let dom = try runChromium(chromium, ["--dump-dom", "--virtual-time-budget=5000"], page: check,
                                  profile: work.appendingPathComponent("profile2"))
        let lines = dom.components(separatedBy: "\n").filter { $0.hasPrefix("LOADED ") || $0.hasPrefix("BROKEN ") || $0.contains("<pre id=\"image-check\">") }
            .map { $0.replacingOccurrences(of: "<pre id=\"image-check\">", with: "").replacingOccurrences(of: "</pre>", with: "") }
        XCTAssertEqual(lines.count, imageCount, "every picture reported:\n\(dom.suffix(2000))")
        XCTAssert(lines.allSatisfy { $0.hasPrefix("LOADED ") }, lines.joined(separator: "\n"))
    }
}
