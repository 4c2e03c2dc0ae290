package api

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

// FuzzVillageImport: a village import file (CSV in UTF-8 or GBK, or XLSX)
// is read into rows or refused; nothing panics.
func FuzzVillageImport(f *testing.F) {
	f.Add([]byte("乡镇,村居,类型,编码\n市东街道,西王村,村,A1\n"), "villages.csv")
	f.Add([]byte("\xef\xbb\xbf市东街道,西王村,村,\n\"三河湖镇\",\"肖家村\",居,\n"), "villages.csv")
	f.Add([]byte("\xca\xd0\xb6\xab,\xce\xf7\xcd\xf5\n"), "gbk.csv")
	x := excelize.NewFile()
	_ = x.SetSheetRow("Sheet1", "A1", &[]any{"市东街道", "西王村", "村", "A1"})
	var b bytes.Buffer
	if err := x.Write(&b); err == nil {
		f.Add(b.Bytes(), "villages.xlsx")
	}
	f.Add([]byte("PK\x03\x04garbage"), "x.csv")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		rows, err := readTable(data, name)
		if err != nil {
			return
		}
		_ = importRows(rows)
	})
}

// FuzzJSONBody: any body is decoded or refused by the request decoder,
// and hasNUL never panics.
func FuzzJSONBody(f *testing.F) {
	f.Add([]byte(`{"items":[{"type":"report","op":"create","data":{"id":"x"}}]}`))
	f.Add([]byte(`{"notes":"a\u0000"}`))
	f.Add([]byte(`{"a":` + string(bytes.Repeat([]byte("["), 100))))
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = hasNUL(body)
		var v syncReq
		_ = decodeJSON(body, &v)
		var r reviewReq
		_ = decodeJSON(body, &r)
		var pw passwordReq
		_ = decodeJSON(body, &pw)
		var sf secondFactorReq
		_ = decodeJSON(body, &sf)
		var l loginReq
		_ = decodeJSON(body, &l)
	})
}
