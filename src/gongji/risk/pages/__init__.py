"""The risk officer's pages under /admin/risk: alert queue, alert, case, institution view."""
