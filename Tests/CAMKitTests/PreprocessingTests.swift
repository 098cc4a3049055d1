import Foundation
import XCTest
@testable import CAMKit

final class PreprocessingTests: XCTestCase {
    /// torchvision/timm transforms of Fixtures/images/photo.png, within 2/255 per pixel
    /// (measured in [0, 1] units, i.e. before the division by std).
    func testTensorsMatchTorchvisionAndTimm() throws {
        let manifest = try ImageFixtureManifest.load()
        let photo = try ImageDecoder().decode(contentsOf: imageFixtureURL(manifest.preprocessing.photo))
        let expected = try StateDict(contentsOf: imageFixtureURL("preprocessing.safetensors"))
        XCTAssertEqual(manifest.preprocessing.cases.count, 8)
        for c in manifest.preprocessing.cases {
            let recipe = c.preprocessing
            let actual = recipe.tensor(from: [photo, photo])
            let reference = try XCTUnwrap(expected[c.key], c.key)
            XCTAssertEqual(actual.shape, [2] + reference.shape.dropFirst(), c.key)
            guard actual.shape == [2] + reference.shape.dropFirst() else { continue }
            let plane = c.cropWidth * c.cropHeight
            var worst: Float = 0
            for n in 0..<2 {
                for i in 0..<reference.count {
                    let channel = i / plane
                    let d = abs(actual.scalars[n * reference.count + i] - reference.scalars[i]) * c.std[channel]
                    worst = max(worst, d)
                }
            }
            print("preprocessing \(c.key): max diff \(worst * 255) / 255")
            XCTAssertLessThanOrEqual(worst, 2 / 255, "\(c.key): max diff \(worst * 255)/255")
        }
    }

    /// The seed's app transform on a 300 × 250 photo, within 2/255 per pixel.
    func testPawMatchPresetMatchesTorchvisionResize224() throws {
        let photo = try ImageDecoder().decode(contentsOf: imageFixtureURL("photo_pawmatch.png"))
        let reference = try XCTUnwrap(StateDict(contentsOf: imageFixtureURL("pawmatch.safetensors"))["pawmatch"])
        let actual = Preprocessing.pawmatch.tensor(from: photo)
        XCTAssertEqual(actual.shape, [1, 3, 224, 224])
        XCTAssertEqual(reference.shape, actual.shape)
        let std = Preprocessing.imagenetStd
        let worst = zip(actual.scalars, reference.scalars).enumerated().map { i, pair in
            abs(pair.0 - pair.1) * std[i / (224 * 224)]
        }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 2 / 255, "max diff \(worst * 255)/255")
        XCTAssertEqual(Preprocessing.pawmatch.cropBox(width: 300, height: 250), PixelRect(x: 0, y: 0, width: 300, height: 250),
                       "the whole photo is explained")
    }

    func testResizedSizeAndCropOriginFollowTorchvision() {
        let p = Preprocessing(resizeShorterSide: 37, cropWidth: 32, cropHeight: 32, interpolation: .bilinear,
                              mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
        // int(37 · 80 / 60) = int(49.33) = 49; portrait the same way round.
        XCTAssertTrue(p.resizedSize(width: 80, height: 60) == (49, 37))
        XCTAssertTrue(p.resizedSize(width: 60, height: 80) == (37, 49))
        // round((49 − 32) / 2) = round(8.5) = 8 and round((37 − 32) / 2) = round(2.5) = 2 (half to even).
        XCTAssertTrue(p.cropOrigin(resizedWidth: 49, resizedHeight: 37) == (8, 2))
        XCTAssertTrue(p.cropOrigin(resizedWidth: 51, resizedHeight: 39) == (10, 4))  // 9.5 → 10, 3.5 → 4
        // A crop larger than the image: torchvision pads (28 − 24) // 2 = 2 on the left/top.
        XCTAssertTrue(p.cropOrigin(resizedWidth: 29, resizedHeight: 32) == (-1, 0))
        XCTAssertEqual(p.cropBox(width: 80, height: 60), PixelRect(x: 13, y: 3, width: 52, height: 52))
        let direct = Preprocessing(resizeShorterSide: nil, cropWidth: 224, cropHeight: 224, interpolation: .bicubic,
                                   mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
        XCTAssertEqual(direct.cropBox(width: 640, height: 480), PixelRect(x: 0, y: 0, width: 640, height: 480))
    }

    func testResizeKeepsAUniformImageAndSkipsUnchangedAxes() {
        let grey = RGBImage(width: 17, height: 9, color: (90, 120, 200))
        for filter in [RGBImage.Filter.bilinear, .bicubic] {
            XCTAssertEqual(grey.resized(width: 5, height: 31, filter: filter), RGBImage(width: 5, height: 31, color: (90, 120, 200)))
            XCTAssertEqual(grey.resized(width: 17, height: 9, filter: filter), grey)
        }
    }
}

final class ModelPreprocessingTests: XCTestCase {
    func testTimmRecipes() throws {
        let manifest = try ImageFixtureManifest.load()
        for interpolation in ["bilinear", "bicubic"] {
            let c = try XCTUnwrap(manifest.preprocessing.cases.first { $0.key == "timm_32_crop_pct_0.875_\(interpolation)" })
            XCTAssertEqual(Preprocessing.timm(inputSize: 32, cropPct: 0.875,
                                              interpolation: Preprocessing.Interpolation(rawValue: interpolation)!),
                           c.preprocessing)
        }
        XCTAssertEqual(Preprocessing.convNeXtV2.resizeShorterSide, 256)
        XCTAssertEqual(Preprocessing.convNeXtV2.interpolation, .bicubic)
        XCTAssertEqual(ConvNeXtV2Config.base.preprocessing.cropWidth, 224)
        XCTAssertNil(Preprocessing.timm(inputSize: 384, cropPct: 1, squash: true).resizeShorterSide)
    }

    /// The case-study photos of ../shared/images, when present (never committed): each decodes
    /// and yields a model input and an overlay of the photo's size.
    func testSharedPhotosWhenPresent() throws {
        let folder = sharedImagesDirectory
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?
            .filter { ImageDecoder.sniff((try? Data(contentsOf: folder.appendingPathComponent($0))) ?? Data()) != nil } ?? []
        try XCTSkipIf(files.isEmpty, "no photos in \(folder.path)")
        let recipe = Preprocessing.timm(inputSize: 64, cropPct: 0.875)
        for file in files.sorted() {
            let photo = try ImageDecoder().decode(contentsOf: folder.appendingPathComponent(file))
            XCTAssertGreaterThan(photo.width * photo.height, 0, file)
            XCTAssertEqual(recipe.tensor(from: photo).shape, [1, 3, 64, 64], file)
            let box = recipe.cropBox(for: photo)
            let map = (0..<49).map { Float($0) / 48 }
            let out = overlay(map: map, mapWidth: 7, mapHeight: 7, on: photo, cropBox: box)
            XCTAssertEqual(out.width, photo.width, file)
        }
    }
}
