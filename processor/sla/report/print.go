package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Print writes the curators' report as a plain-text table per agency.
func Print(w io.Writer, agencies []Agency, now time.Time, loc *time.Location) error {
	if len(agencies) == 0 {
		_, err := fmt.Fprintln(w, "Нет просроченных обращений и обращений под угрозой просрочки.")
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, a := range agencies {
		name := a.Agency
		if name == "" {
			name = "(у кураторов — не назначено)"
		}
		fmt.Fprintf(tw, "%s: просрочено %d, под угрозой %d\n", name, len(a.Overdue), len(a.AtRisk))
		for _, grp := range []struct {
			label string
			items []Item
		}{{"просрочено", a.Overdue}, {"под угрозой", a.AtRisk}} {
			for _, it := range grp.items {
				delta := now.Sub(it.Deadline).Round(time.Minute)
				when := "на " + delta.String()
				if delta < 0 {
					when = "через " + (-delta).String()
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\tсрок %s\t%s\n", grp.label, it.AppealID, it.Municipality,
					it.Category, it.Status, it.Deadline.In(loc).Format("02.01 15:04"), when)
			}
		}
	}
	return tw.Flush()
}
