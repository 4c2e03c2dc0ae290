package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"zhucun/domain"
	"zhucun/sheets"
)

// exportArgs reads ?townId= and the period.
func (s *server) exportArgs(c *fiber.Ctx) (string, domain.Period, string, error) {
	townID := c.Query("townId")
	if townID != "" && !domain.ValidID(townID) {
		var v domain.Validator
		v.Add("townId", domain.FieldInvalid, "townId must be a town's id")
		return "", domain.Period{}, "", queryErr(v)
	}
	p, err := statsPeriod(c)
	if err != nil {
		return "", domain.Period{}, "", err
	}
	basis, err := statsBasis(c)
	return townID, p, basis, err
}

// auditExport records an export in the audit trail (what, of which town, by whom, from where).
func (s *server) auditExport(c *fiber.Ctx, what, townID string) error {
	return s.svc.Audit.Record(ctx(c), caller(c), "export", what, "export", townID)
}

// ledgerXLSX streams the ledger workbook: one sheet per part, in Chinese,
// written row by row with excelize's StreamWriter.
func (s *server) ledgerXLSX(c *fiber.Ctx) error {
	townID, p, basis, err := s.exportArgs(c)
	if err != nil {
		return err
	}
	ss, err := s.svc.Exports.Sheets(ctx(c), caller(c), townID, p, basis)
	if err != nil {
		return asQueryErr(err)
	}
	if err := s.auditExport(c, "ledger.xlsx", townID); err != nil {
		return err
	}
	name := "整顿台账-" + p.From + "-" + p.To + ".xlsx"
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="ledger.xlsx"; filename*=UTF-8''`+urlEscape(name))
	pr, pw := io.Pipe()
	go func() { _ = pw.CloseWithError(sheets.WriteXLSX(pw, ss)) }()
	return c.SendStream(pr)
}

// sheetCSV streams one sheet as CSV (UTF-8 with a BOM, for Excel); text
// that would start a formula gets a leading apostrophe.
func (s *server) sheetCSV(c *fiber.Ctx) error {
	key := c.Params("sheet")
	if !slices.Contains(domain.ExportSheets, key) {
		return domain.NotFound("sheet")
	}
	townID, p, basis, err := s.exportArgs(c)
	if err != nil {
		return err
	}
	sheets, err := s.svc.Exports.Sheets(ctx(c), caller(c), townID, p, basis, key)
	if err != nil {
		return asQueryErr(err)
	}
	if err := s.auditExport(c, key+".csv", townID); err != nil {
		return err
	}
	sh := sheets[0]
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.Write(sh.Header)
	for _, row := range sh.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case string:
				rec[i] = domain.SafeCell(x)
			case float64:
				rec[i] = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+key+`.csv"`)
	return c.SendStream(&buf, buf.Len())
}

func urlEscape(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
