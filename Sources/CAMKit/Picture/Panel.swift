import Foundation

/// One model's column of a panel: its overlay and what it predicted.
public struct PanelColumn {
    /// The model name, shown in bold above the overlay.
    public var title: String
    /// The predicted label.
    public var label: String
    /// The predicted label's probability, 0…1.
    public var confidence: Double
    /// The heatmap overlay (made by the overlay code; drawn here as it is).
    public var image: RGBImage
    /// Whether the prediction is wrong; `nil` when no ground truth is known.
    public var isWrong: Bool?
    /// The best classes with their probabilities, listed under the overlay (may be empty).
    public var topK: [(label: String, probability: Double)]

    public init(title: String, label: String, confidence: Double, image: RGBImage, isWrong: Bool? = nil,
                topK: [(label: String, probability: Double)] = []) {
        self.title = title; self.label = label; self.confidence = confidence
        self.image = image; self.isWrong = isWrong; self.topK = topK
    }
}

/// The photo and one overlay per model, side by side, so models can be compared at a glance.
///
/// All pictures are scaled to one height; each column is titled with model name, predicted
/// label and confidence. A wrong prediction gets a `RenderColor.wrong` frame and a
/// "✗ wrong (true: …)" line, so it stands out in colour and in words.
public struct Panel: Figure {
    public var photo: RGBImage
    public var photoTitle: String
    /// The ground-truth label of the photo, if known; named under the photo and in wrong-marks.
    public var trueLabel: String?
    public var columns: [PanelColumn]
    /// The common height every picture is scaled to.
    public var imageHeight: Int

    /// Column titles are DejaVu Sans Bold at this size; the other lines are regular at `textSize`.
    public static let titleSize = 15.0
    public static let textSize = 13.0
    static let margin = 16.0, gap = 20.0, minimumColumnWidth = 170.0
    static let titleBlock = 62.0, topKLine = 18.0, frameWidth = 4.0

    public init(photo: RGBImage, photoTitle: String = "photo", trueLabel: String? = nil, columns: [PanelColumn],
                imageHeight: Int = 224) {
        self.photo = photo; self.photoTitle = photoTitle; self.trueLabel = trueLabel
        self.columns = columns; self.imageHeight = imageHeight
    }

    /// The note a wrong column carries under its title.
    public func wrongNote() -> String {
        trueLabel.map { "✗ wrong (true: \($0))" } ?? "✗ wrong"
    }

    private func scaledWidth(_ image: RGBImage) -> Double {
        (Double(image.width) * Double(imageHeight) / Double(max(image.height, 1))).rounded()
    }

    private var columnWidths: [Double] {
        ([photo] + columns.map(\.image)).map { max(scaledWidth($0), Panel.minimumColumnWidth) }
    }

    private var topKRows: Int { columns.map(\.topK.count).max() ?? 0 }

    public func pageSize() throws -> (width: Int, height: Int) {
        let widths = columnWidths
        let width = 2 * Panel.margin + widths.reduce(0, +) + Panel.gap * Double(widths.count - 1)
        let list = topKRows > 0 ? 8 + Panel.topKLine * Double(topKRows) : 0
        let height = 2 * Panel.margin + Panel.titleBlock + Double(imageHeight) + list
        return (Int(width.rounded(.up)), Int(height.rounded(.up)))
    }

    public func draw(on canvas: Canvas) throws {
        guard imageHeight > 0 else { throw RenderError.emptyFigure("a panel with image height \(imageHeight)") }
        let titleFont = try Font.dejaVuSans(size: Panel.titleSize, bold: true)
        let textFont = try Font.dejaVuSans(size: Panel.textSize)
        let imageTop = Panel.margin + Panel.titleBlock
        var left = Panel.margin
        for (index, width) in columnWidths.enumerated() {
            let column = index == 0 ? nil : columns[index - 1]
            let image = column?.image ?? photo
            let center = left + width / 2
            let line1 = Panel.margin + Panel.titleSize
            let line2 = line1 + 20, line3 = line2 + 19
            if let column {
                canvas.drawText(column.title, at: center, baseline: line1, font: titleFont, align: .center, maxWidth: width)
                let confidence = percent(column.confidence)
                let labelRoom = width - textFont.width(of: "  " + confidence)
                let label = textFont.fitting(column.label, width: labelRoom)
                canvas.drawText(label + "  " + confidence, at: center, baseline: line2, font: textFont, align: .center)
                if column.isWrong == true {
                    canvas.drawText(wrongNote(), at: center, baseline: line3, font: textFont, color: .wrong,
                                    align: .center, maxWidth: width)
                }
            } else {
                canvas.drawText(photoTitle, at: center, baseline: line1, font: titleFont, align: .center, maxWidth: width)
                if let trueLabel {
                    canvas.drawText("true: \(trueLabel)", at: center, baseline: line2, font: textFont,
                                    color: .secondaryText, align: .center, maxWidth: width)
                }
            }
            let imageWidth = scaledWidth(image)
            let box = Box(x: (center - imageWidth / 2).rounded(), y: imageTop, width: imageWidth, height: Double(imageHeight))
            try canvas.draw(image, in: box)
            if column?.isWrong == true {
                let half = Panel.frameWidth / 2
                canvas.stroke(Box(x: box.x - half, y: box.y - half, width: box.width + Panel.frameWidth,
                                  height: box.height + Panel.frameWidth), .wrong, lineWidth: Panel.frameWidth)
            }
            if let column { drawTopK(column.topK, on: canvas, left: left, width: width, top: box.maxY + 8, font: textFont) }
            left += width + Panel.gap
        }
    }

    /// The top-k list: label on the left, probability on the right, over a light bar as long as
    /// the probability, so the ranking reads without parsing the numbers.
    private func drawTopK(_ topK: [(label: String, probability: Double)], on canvas: Canvas, left: Double,
                          width: Double, top: Double, font: Font) {
        for (rank, entry) in topK.enumerated() {
            let y = top + Panel.topKLine * Double(rank)
            let barWidth = (width * min(max(entry.probability, 0), 1)).rounded()
            canvas.fill(Box(x: left, y: y + 1, width: barWidth, height: Panel.topKLine - 3), RenderColor(hex: 0xE8EEF4))
            let value = percent(entry.probability)
            let room = width - font.width(of: value) - 12
            canvas.drawText("\(rank + 1). \(entry.label)", at: left + 2, baseline: y + 13, font: font, align: .left, maxWidth: room)
            canvas.drawText(value, at: left + width - 2, baseline: y + 13, font: font, align: .right)
        }
    }
}

/// "61.2 %": confidences read as percentages in titles and lists.
func percent(_ value: Double, digits: Int = 1) -> String {
    String(format: "%.\(digits)f %%", value * 100)
}
