package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"zhucun/domain"
)

const (
	mimeXLSX      = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	maxImportSize = 10 << 20
)

// importVillages takes a CSV or XLSX file, as multipart field "file" or as
// the whole body with a text/csv or XLSX content type.
func (s *server) importVillages(c *fiber.Ctx) error {
	data, name, err := uploadedFile(c)
	if err != nil {
		return err
	}
	rows, err := readTable(data, name)
	if err != nil {
		return newError(domain.KindInvalid, "invalid_file", err.Error(),
			domain.FieldError{Field: "file", Code: domain.FieldInvalid, Message: err.Error()})
	}
	res, err := s.svc.Org.ImportVillages(ctx(c), caller(c), importRows(rows))
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func uploadedFile(c *fiber.Ctx) ([]byte, string, error) {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case fiber.MIMEMultipartForm:
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, "", newError(domain.KindInvalid, "validation_failed", "the request has invalid fields",
				domain.FieldError{Field: "file", Code: domain.FieldRequired, Message: "send the file in multipart field 'file'"})
		}
		if fh.Size > maxImportSize {
			return nil, "", fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("an import file may be at most %d bytes", maxImportSize))
		}
		f, err := fh.Open()
		if err != nil {
			return nil, "", fmt.Errorf("open upload: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxImportSize+1))
		if err != nil {
			return nil, "", fmt.Errorf("read upload: %w", err)
		}
		return b, fh.Filename, nil
	case "text/csv", mimeXLSX:
		b := c.Body()
		if len(b) > maxImportSize {
			return nil, "", fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("an import file may be at most %d bytes", maxImportSize))
		}
		name := "upload.csv"
		if mt == mimeXLSX {
			name = "upload.xlsx"
		}
		return b, name, nil
	}
	return nil, "", fiber.NewError(fiber.StatusUnsupportedMediaType, "send a CSV or XLSX file as multipart/form-data field 'file', text/csv or "+mimeXLSX)
}

// readTable reads the cells of a CSV (UTF-8, or GB18030 as Excel saves it
// on Chinese Windows) or of the first sheet of an XLSX file.
func readTable(data []byte, name string) ([][]string, error) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || strings.EqualFold(filepath.Ext(name), ".xlsx") {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("not a readable XLSX file: %w", err)
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, fmt.Errorf("the XLSX file has no sheet")
		}
		rows, err := f.GetRows(sheets[0])
		if err != nil {
			return nil, fmt.Errorf("read sheet %q: %w", sheets[0], err)
		}
		return rows, nil
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return nil, fmt.Errorf("the CSV is neither UTF-8 nor GB18030")
		}
		data = dec
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("not a readable CSV file: %w", err)
	}
	return rows, nil
}

// headerWords mark a first row as a header.
var headerWords = []string{"town", "乡镇", "镇街", "乡镇(街道)", "乡镇（街道）", "街道"}

// importRows turns table cells into import rows: columns town, village,
// kind, code; a header row and blank rows are skipped; lines count from 1.
func importRows(cells [][]string) []domain.ImportRow {
	var out []domain.ImportRow
	for i, r := range cells {
		cell := func(j int) string {
			if j < len(r) {
				return strings.TrimSpace(r[j])
			}
			return ""
		}
		if i == 0 {
			h := strings.ToLower(cell(0))
			isHeader := false
			for _, w := range headerWords {
				if h == w {
					isHeader = true
				}
			}
			if isHeader {
				continue
			}
		}
		if cell(0) == "" && cell(1) == "" && cell(2) == "" && cell(3) == "" {
			continue
		}
		out = append(out, domain.ImportRow{Line: i + 1, Town: cell(0), Village: cell(1), Kind: cell(2), Code: cell(3)})
	}
	return out
}
