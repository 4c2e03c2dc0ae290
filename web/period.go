package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"zhucun/domain"
)

// periodForm is the period picker: a week, month, quarter, half-year,
// year or custom range, and the basis (every record filed, or the
// approved ones).
type periodForm struct {
	Kind                             string
	Week, Month, Quarter, Half, Year string
	From, To                         string
	Basis                            string
	Period                           domain.Period
	Label                            string
	Error                            string
	Quarters, Halves, Years          []option
	Kinds, Bases                     []option
	query                            url.Values
}

type option struct{ Value, Label string }

// Query is the picker's state as a query string, for links that keep it
// (already encoded: the template puts it in a URL as it is).
func (f periodForm) Query() template.URL { return template.URL(f.query.Encode()) }

// readPeriod reads the picker from the query; the default is this year.
func readPeriod(q url.Values, now time.Time, loc *time.Location) periodForm {
	today := now.In(loc)
	y := today.Year()
	f := periodForm{Kind: q.Get("kind"), Week: q.Get("week"), Month: q.Get("month"), Quarter: q.Get("quarter"), Half: q.Get("half"),
		Year: q.Get("year"), From: q.Get("from"), To: q.Get("to"), Basis: q.Get("basis")}
	if f.Basis != domain.BasisApproved {
		f.Basis = domain.BasisReported
	}
	f.Kinds = []option{{"week", "周"}, {"month", "月"}, {"quarter", "季度"}, {"half", "半年"}, {"year", "年"}, {"custom", "自定义"}}
	f.Bases = []option{{domain.BasisReported, "全部已报"}, {domain.BasisApproved, "已审核通过"}}
	for yy := y; yy >= y-3; yy-- {
		f.Years = append(f.Years, option{strconv.Itoa(yy), fmt.Sprintf("%d年", yy)})
		for qq := 4; qq >= 1; qq-- {
			f.Quarters = append(f.Quarters, option{fmt.Sprintf("%dQ%d", yy, qq), fmt.Sprintf("%d年第%d季度", yy, qq)})
		}
		f.Halves = append(f.Halves, option{fmt.Sprintf("%dS2", yy), fmt.Sprintf("%d年下半年", yy)}, option{fmt.Sprintf("%dS1", yy), fmt.Sprintf("%d年上半年", yy)})
	}
	if f.Week == "" {
		yy, ww := today.ISOWeek()
		f.Week = fmt.Sprintf("%04d-W%02d", yy, ww)
	}
	if f.Month == "" {
		f.Month = today.Format("2006-01")
	}
	if f.Quarter == "" {
		f.Quarter = fmt.Sprintf("%dQ%d", y, (int(today.Month())+2)/3)
	}
	if f.Half == "" {
		f.Half = fmt.Sprintf("%dS%d", y, (int(today.Month())+5)/6)
	}
	if f.Year == "" {
		f.Year = strconv.Itoa(y)
	}
	if f.From == "" {
		f.From = fmt.Sprintf("%d-01-01", y)
	}
	if f.To == "" {
		f.To = today.Format(domain.DateLayout)
	}
	var id string
	switch f.Kind {
	case "week":
		id = strings.Replace(f.Week, "-", "", 1)
	case "month":
		id = strings.Replace(f.Month, "-", "", 1)
	case "quarter":
		id = f.Quarter
	case "half":
		id = f.Half
	case "custom":
	default:
		f.Kind, id = "year", f.Year
	}
	var p domain.Period
	var err error
	if f.Kind == "custom" {
		p, err = domain.ParseStatsPeriod("", f.From, f.To)
	} else {
		p, err = domain.ParseStatsPeriod(id, "", "")
	}
	if err != nil {
		f.Error = "时段有误，已改为本年。"
		f.Kind, f.Year = "year", strconv.Itoa(y)
		p, _ = domain.ParsePeriod(f.Year)
	}
	f.Period = p
	f.Label = periodLabel(f.Kind, p)
	f.query = url.Values{"kind": {f.Kind}, "basis": {f.Basis}}
	switch f.Kind {
	case "week":
		f.query.Set("week", f.Week)
	case "month":
		f.query.Set("month", f.Month)
	case "quarter":
		f.query.Set("quarter", f.Quarter)
	case "half":
		f.query.Set("half", f.Half)
	case "year":
		f.query.Set("year", f.Year)
	case "custom":
		f.query.Set("from", f.From)
		f.query.Set("to", f.To)
	}
	return f
}

// periodLabel names a period in Chinese.
func periodLabel(kind string, p domain.Period) string {
	from, _ := time.Parse(domain.DateLayout, p.From)
	switch kind {
	case "month":
		return fmt.Sprintf("%d年%d月", from.Year(), from.Month())
	case "quarter":
		return fmt.Sprintf("%d年第%d季度", from.Year(), (int(from.Month())+2)/3)
	case "half":
		if from.Month() == 1 {
			return fmt.Sprintf("%d年上半年", from.Year())
		}
		return fmt.Sprintf("%d年下半年", from.Year())
	case "year":
		return fmt.Sprintf("%d年", from.Year())
	}
	return p.From + " 至 " + p.To
}
