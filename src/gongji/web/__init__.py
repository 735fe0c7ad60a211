"""The pages' plumbing, shared by every area's pages: sessions and CSRF, rendering (Jinja2
templates and static files live here), forms, Chinese and English texts, sign-in pages. Areas
keep their own pages in ``<area>/pages``; they call the same use cases as the API.
"""
