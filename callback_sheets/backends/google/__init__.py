"""The Google Sheets backend: gspread over the Sheets API v4, a constant number of batched calls per
command with bounded, jittered retries, a write lease for the rows it adds, and the tabs' layout in one
batch."""
