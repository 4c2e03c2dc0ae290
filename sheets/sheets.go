// Package sheets writes the ledger's sheets (domain.ExportSheet) as an
// XLSX workbook, for the API's export and the console's download.
package sheets

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"zhucun/domain"
)

// WriteXLSX writes the sheets as one workbook, a sheet each, in Chinese,
// printed landscape one page wide; rows are written one by one with
// excelize's StreamWriter.
func WriteXLSX(w io.Writer, sheets []domain.ExportSheet) error {
	f := excelize.NewFile()
	defer f.Close() //nolint:errcheck // closing frees temporary files; the write's error is the one that counts
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.Name); err != nil {
				return fmt.Errorf("ledger workbook: %w", err)
			}
		} else if _, err := f.NewSheet(sh.Name); err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
		// Printed landscape, one page wide.
		fit := true
		if err := f.SetSheetProps(sh.Name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
		orient, wide, tall := "landscape", 1, 0
		if err := f.SetPageLayout(sh.Name, &excelize.PageLayoutOptions{Orientation: &orient, FitToWidth: &wide, FitToHeight: &tall}); err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
		sw, err := f.NewStreamWriter(sh.Name)
		if err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
		// Wide enough for the Chinese headers; text columns wider.
		if err := sw.SetColWidth(1, len(sh.Header), 14); err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
		first := 16.0
		if sh.Key == "summary" {
			first = 30
		}
		if err := sw.SetColWidth(1, 1, first); err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
		header := make([]any, len(sh.Header))
		for j, h := range sh.Header {
			header[j] = h
		}
		if err := sw.SetRow("A1", header); err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
		for r, row := range sh.Rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+2)
			// Text is written as text, never as a formula, whatever it starts with.
			if err := sw.SetRow(cell, textCells(row)); err != nil {
				return fmt.Errorf("ledger workbook: %w", err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("ledger workbook: %w", err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("ledger workbook: %w", err)
	}
	return nil
}

// textCells marks strings as plain text cells.
func textCells(row []any) []any {
	out := make([]any, len(row))
	for i, v := range row {
		if s, ok := v.(string); ok {
			out[i] = excelize.Cell{Value: s}
		} else {
			out[i] = v
		}
	}
	return out
}
