import Foundation
import XCTest
import CAMKit

/// `Fixtures/images/manifest.json`, written by scripts/reference/make_image_fixtures.py.
struct ImageFixtureManifest: Decodable {
    struct DecodeCase: Decodable {
        let file: String, expected: String, mode: String, width: Int, height: Int
    }
    struct PreprocessingCase: Decodable {
        let key: String, resizeShorterSide: Int?, cropWidth: Int, cropHeight: Int
        let interpolation: String, mean: [Float], std: [Float]

        var preprocessing: Preprocessing {
            Preprocessing(resizeShorterSide: resizeShorterSide, cropWidth: cropWidth, cropHeight: cropHeight,
                          interpolation: Preprocessing.Interpolation(rawValue: interpolation)!,
                          mean: mean, std: std)
        }
    }
    struct PreprocessingSection: Decodable { let photo: String, cases: [PreprocessingCase] }
    struct Recipe: Decodable { let resizeShorterSide: Int, cropWidth: Int, cropHeight: Int }
    struct OverlayCase: Decodable {
        let expected: String, map: String, mapWidth: Int, mapHeight: Int, cropBox: [Int], imageWeight: Double
        let recipe: Recipe?
    }
    struct OverlaySection: Decodable { let photo: String, jet: String, cases: [OverlayCase] }

    let decode: [DecodeCase]
    let preprocessing: PreprocessingSection
    let overlay: OverlaySection

    static func load() throws -> ImageFixtureManifest {
        try JSONDecoder().decode(Self.self, from: Data(contentsOf: imageFixtureURL("manifest.json")))
    }
}

func imageFixtureURL(_ path: String) -> URL { fixtureURL("images/" + path) }

func rawRGB(_ path: String, width: Int, height: Int) throws -> RGBImage {
    RGBImage(width: width, height: height, pixels: [UInt8](try Data(contentsOf: imageFixtureURL(path))))
}

/// Largest per-channel difference of two images of the same size.
func maxLevelDifference(_ a: RGBImage, _ b: RGBImage) -> Int {
    precondition(a.width == b.width && a.height == b.height)
    return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
}
