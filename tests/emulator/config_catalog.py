"""Catalog of Commerce configuration paths served by the emulator's ``/V1/system/config``.

Real section/group/field names from Adobe Commerce's ``system.xml``/``config.xml`` files (core,
Commerce-only and B2B modules, a few well-known carriers and payment gateways), with the scopes
each may be set at (``showInDefault``/``showInWebsite``/``showInStore``) and the Commerce default
(``config.xml``) or null.  Defaults are shortened where Commerce ships long texts (address
templates, country lists): the emulator needs the shape, not every byte.

Compact notation, one group per line::

    section/group SCOPES: field[@SCOPES][!][=default]; ...

* ``SCOPES`` letters: ``d`` default, ``w`` website, ``s`` store; the group's letters apply to every
  field without its own ``@``;
* ``!`` marks an obscured/sensitive field (Commerce ``obscure`` type or an encrypted backend);
* no ``=``: the default is null; ``=`` followed by nothing: the empty string.

The ``payment/<gateway>`` groups of ``_GATEWAYS`` stand for third-party gateways: their names
are real extensions' codes, their credential fields are normalised to the ``api_key``,
``merchant_key``, ``password`` and ``secret`` names the facts file lists.
"""

from __future__ import annotations

SCOPE_LETTERS = {"d": "default", "w": "website", "s": "store"}
SCOPES = ("default", "website", "store")

_SPEC = r"""
general/country dws: default=US; allow=AR,AT,AU,BE,BR,CA,CH,CN,DE,DK,ES,FI,FR,GB,IE,IN,IT,JP,MX,NL,NO,NZ,PL,PT,SE,US; optional_zip_countries@d=HK,IE,MO,PA,GB; eu_countries=AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE; destinations
general/region d: state_required=AL,AR,AU,BG,BO,BR,BY,CA,CH,CL,CN,CO,CZ,DK,EC,EE,ES,GR,GY,HR,IN,IS,IT,LT,LV,MX,PE,PL,PT,PY,RO,SE,SR,US,UY,VE; display_all=1
general/locale dws: code=en_US; timezone@dw=America/Los_Angeles; firstday=0; weekend=0,6; weight_unit=lbs
general/store_information dws: name; phone; hours; country_id; region_id; postcode; city; street_line1; street_line2; merchant_vat_number
general/single_store_mode d: enabled=0
general/restriction dw: is_active=0; mode=0; startup_page=0; landing_page=no-route; http_status=0; http_redirect=0
currency/options dws: base@dw=USD; default=USD; allow=EUR,USD
currency/fixerio d: api_key!; timeout=100
currency/currencyconverterapi d: api_key!; timeout=100
currency/import d: enabled=0; service=fixerio; frequency=D; time=00,00,00; error_email; error_email_identity=general; error_email_template=currency_import_error_email_template
web/url d: use_store=0; redirect_to_base=1
web/seo dws: use_rewrites=1
web/unsecure dws: base_url; base_link_url={{unsecure_base_url}}; base_static_url; base_media_url
web/secure dws: base_url; base_link_url={{secure_base_url}}; base_static_url; base_media_url; use_in_frontend=0; use_in_adminhtml@d=0; enable_hsts@d=0; enable_upgrade_insecure@d=0; offloader_header@d=X-Forwarded-Proto
web/default dws: front=cms; no_route=cms/noroute/index; cms_home_page=home; cms_no_route=no-route; cms_no_cookies=enable-cookies; show_cms_breadcrumbs=1
web/cookie dws: cookie_lifetime=3600; cookie_path; cookie_domain; cookie_httponly=1; cookie_restriction@dw=0; cookie_restriction_lifetime@dw=31536000
web/session d: use_remote_addr=0; use_http_via=0; use_http_x_forwarded_for=0; use_http_user_agent=0; use_frontend_sid=1
web/browser_capabilities dws: cookies=1; javascript=1; local_storage=0
design/head dws: default_title=Magento Commerce; title_prefix; title_suffix; default_description; default_keywords; includes; demonotice=0
design/header dws: logo_width; logo_height; logo_alt; welcome=Default welcome msg!
design/footer dws: copyright=Copyright © 2013-present Magento, Inc. All rights reserved.; absolute_footer
design/pagination dws: pagination_frame=5; pagination_frame_skip; anchor_text_for_previous; anchor_text_for_next
design/search_engine_robots dws: default_robots=INDEX,FOLLOW; custom_instructions
catalog/frontend dws: list_mode=grid-list; grid_per_page_values=12,24,36; grid_per_page=12; list_per_page_values=5,10,15,20,25; list_per_page=10; list_allow_all=0; default_sort_by=position; flat_catalog_category@d=0; flat_catalog_product@d=0; remember_pagination@d=0; swatches_per_product=16; show_swatches_in_product_list=1
catalog/review dws: active=1; allow_guest=1
catalog/productalert dws: allow_price=0; allow_stock=0; email_identity=general; email_price_template=catalog_productalert_email_price_template; email_stock_template=catalog_productalert_email_stock_template
catalog/recently_products dws: scope@d=website; viewed_count=5; compared_count=5
catalog/price d: scope=0; default_product_price
catalog/seo dws: search_terms=1; site_map=1; product_url_suffix=.html; category_url_suffix=.html; product_use_categories=0; save_rewrites_history=1; title_separator=-; category_canonical_tag=0; product_canonical_tag=0; generate_category_product_rewrites@d=1
catalog/search dws: engine@d=opensearch; min_query_length=3; max_query_length=128; max_count_cacheable_search_terms=100; autocomplete_limit=8; enable_eav_indexer@d=1; search_suggestion_enabled=1; search_suggestion_count=2; search_suggestion_count_results_enabled=0; search_recommendations_enabled=1; search_recommendations_count=5; search_recommendations_count_results_enabled=0; opensearch_server_hostname@d=localhost; opensearch_server_port@d=9200; opensearch_index_prefix@d=magento2; opensearch_enable_auth@d=0; opensearch_username@d; opensearch_password@d!; opensearch_server_timeout@d=15; opensearch_minimum_should_match@d
catalog/navigation dws: max_depth=0
catalog/layered_navigation dws: display_product_count=1; price_range_calculation=auto; price_range_step=100; price_range_max_intervals=10
catalog/downloadable dws: order_item_status@dw=9; downloads_number=0; shareable=0; samples_title=Samples; links_title=Links; links_target_new_window=1; content_disposition=inline; disable_guest_checkout=1
catalog/placeholder dws: image_placeholder; small_image_placeholder; thumbnail_placeholder; swatch_image_placeholder
catalog/custom_options dws: use_calendar=0; date_fields_order=m,d,y; time_format=12h; year_range=,
catalog/fields_masks d: sku={{name}}; meta_title={{name}}; meta_keyword={{name}}; meta_description={{name}} {{description}}
cataloginventory/options dws: can_subtract@d=1; can_back_in_stock@d=1; show_out_of_stock@d=0; stock_threshold_qty=0; display_product_stock_status=1
cataloginventory/item_options d: manage_stock=1; backorders=0; max_sale_qty=10000; min_sale_qty=1; min_qty=0; notify_stock_qty=1; enable_qty_increments=0; qty_increments=1; auto_return=0
checkout/options dws: onepage_checkout_enabled=1; guest_checkout=1; display_billing_address_on=0; max_items_display_count=10; enable_agreements=0; enable_guest_checkout_login=0
checkout/cart dws: delete_quote_after@dw=30; redirect_to_cart=0; grouped_product_image=itself; configurable_product_image=parent; number_items_to_display_pager=20; crosssell_enabled=1; enable_clear_shopping_cart=0
checkout/cart_link dws: use_qty=1
checkout/sidebar dws: display=1; count=5; max_items_display_count=10
checkout/payment_failed dws: identity=general; template=checkout_payment_failed_template; receiver=general; copy_to; copy_method=bcc
customer/account_share d: scope=1
customer/online_customers d: online_minutes_interval; section_data_lifetime=60
customer/create_account dws: auto_group_assign@dw=0; default_group@dw=1; viv_domestic_group@dw; viv_intra_union_group@dw; viv_invalid_group@dw; viv_error_group@dw; vat_frontend_visibility@dw=0; email_domain=example.com; email_template=customer_create_account_email_template; email_no_password_template=customer_create_account_email_no_password_template; email_identity=general; confirm@dw=0; email_confirmation_template=customer_create_account_email_confirmation_template; email_confirmed_template=customer_create_account_email_confirmed_template; generate_human_friendly_id=0
customer/password dws: forgot_email_template=customer_password_forgot_email_template; remind_email_template=customer_password_remind_email_template; reset_password_template=customer_password_reset_password_template; forgot_email_identity=support; reset_link_expiration_period@d=2; required_character_classes_number@d=3; minimum_password_length@d=8; lockout_failures@d=10; lockout_threshold@d=10; password_reset_protection_type@d=1; max_number_password_reset_requests@d=5; min_time_between_password_reset_requests@d=10; autocomplete_on_storefront@dw=1
customer/account_information dw: change_email_template=customer_account_information_change_email_template; change_email_and_password_template=customer_account_information_change_email_and_password_template; graphql_share_customer_group=1
customer/address dw: street_lines=2; prefix_show; prefix_options; middlename_show=0; suffix_show; suffix_options; dob_show; taxvat_show; gender_show; telephone_show=req; company_show=opt; fax_show
customer/startup dws: redirect_dashboard=0
customer/address_templates dws: text; oneline; html; pdf
customer/captcha dw: enable=0; font=linlibertine; forms=user_forgotpassword; mode=after_fail; failed_attempts_login=3; timeout=7; length=4-5; symbols=ABCDEFGHJKMnpqrstuvwxyz23456789; case_sensitive=0
customer/magento_customerbalance dws: is_enabled@dw=1; show_history@dw=1; refund_automatically@dw=0; email_identity=general; email_template=customer_magento_customerbalance_email_template
admin/security d: session_lifetime=900; admin_account_sharing=0; password_reset_link_expiration_period=2; lockout_failures=6; lockout_threshold=30; password_lifetime=90; password_is_forced=1; use_form_key=1
admin/startup d: menu_item_id=dashboard
admin/url d: use_custom=0; custom; use_custom_path=0; custom_path
admin/captcha d: enable=0; font=linlibertine; forms=backend_forgotpassword; mode=after_fail; failed_attempts_login=3; timeout=7; length=4-5
sales/general dws: hide_customer_ip=0
sales/totals_sort d: subtotal=10; discount=20; shipping=30; weee=35; tax=40; giftwrapping=50; giftcardaccount=60; customerbalance=70; reward=80; grand_total=100
sales/reorder dws: allow=1
sales/identity dws: logo; logo_html; address
sales/minimum_order dws: active@dw=0; amount@dw; tax_including@dw=0; include_discount_amount@dw=1; description; error_message; multi_address@dw=0; multi_address_description; multi_address_error_message
sales/dashboard d: use_aggregated_data=0
sales/orders dw: delete_pending_after=480
sales/gift_options dws: allow_order=0; allow_items=0; wrapping_allow_order=0; wrapping_allow_items=0; allow_gift_receipt=0; allow_printed_card=0; printed_card_price
sales/msrp dws: enabled@dw=0; display_price_type=1; explanation_message; explanation_message_whats_this
sales/instant_purchase dws: active=0; button_text=Instant Purchase
sales/magento_rma dws: enabled=0; enabled_on_product=1; use_store_address=1
sales/product_sku dw: my_account_enable=1
sales_email/general d: async_sending=0
sales_email/order dws: enabled=1; identity=sales; template=sales_email_order_template; guest_template=sales_email_order_guest_template; copy_to; copy_method=bcc
sales_email/order_comment dws: enabled=1; identity=sales; template=sales_email_order_comment_template; guest_template=sales_email_order_comment_guest_template; copy_to; copy_method=bcc
sales_email/invoice dws: enabled=1; identity=sales; template=sales_email_invoice_template; guest_template=sales_email_invoice_guest_template; copy_to; copy_method=bcc
sales_email/invoice_comment dws: enabled=1; identity=sales; template=sales_email_invoice_comment_template; guest_template=sales_email_invoice_comment_guest_template; copy_to; copy_method=bcc
sales_email/shipment dws: enabled=1; identity=sales; template=sales_email_shipment_template; guest_template=sales_email_shipment_guest_template; copy_to; copy_method=bcc
sales_email/shipment_comment dws: enabled=1; identity=sales; template=sales_email_shipment_comment_template; guest_template=sales_email_shipment_comment_guest_template; copy_to; copy_method=bcc
sales_email/creditmemo dws: enabled=1; identity=sales; template=sales_email_creditmemo_template; guest_template=sales_email_creditmemo_guest_template; copy_to; copy_method=bcc
sales_email/creditmemo_comment dws: enabled=1; identity=sales; template=sales_email_creditmemo_comment_template; guest_template=sales_email_creditmemo_comment_guest_template; copy_to; copy_method=bcc
sales_pdf/invoice dws: put_order_id=1
sales_pdf/shipment dws: put_order_id=1
sales_pdf/creditmemo dws: put_order_id=1
trans_email/ident_general dws: name=Owner; email=owner@example.com
trans_email/ident_sales dws: name=Sales; email=sales@example.com
trans_email/ident_support dws: name=CustomerSupport; email=support@example.com
trans_email/ident_custom1 dws: name=Custom 1; email=custom1@example.com
trans_email/ident_custom2 dws: name=Custom 2; email=custom2@example.com
contact/contact dws: enabled=1
contact/email dws: recipient_email=hello@example.com; sender_email_identity=custom2; email_template=contact_email_email_template
newsletter/general d: active=1
newsletter/subscription dws: confirm=0; allow_guest_subscribe=1; confirm_email_identity=support; confirm_email_template=newsletter_subscription_confirm_email_template; success_email_identity=general; success_email_template=newsletter_subscription_success_email_template; un_email_identity=support; un_email_template=newsletter_subscription_un_email_template
wishlist/general dws: active=1; show_in_sidebar=1
wishlist/email dws: email_identity=custom2; email_template=wishlist_email_email_template; number_limit=10; text_limit=255
wishlist/wishlist_link dws: use_qty=0
sendfriend/email dws: enabled=0; template=sendfriend_email_template; allow_guest=0; max_recipients=5; max_per_hour=5; check_by=0
rss/config dws: active=0
rss/wishlist dws: active=1
rss/catalog dws: new=1; special=1; salesrule=1; category=1
rss/order dws: status=1
shipping/origin dw: country_id=US; region_id=12; postcode=90034; city; street_line1; street_line2
shipping/shipping_policy dws: enable_shipping_policy=0; shipping_policy_content
multishipping/options dw: checkout_multiple=1; checkout_multiple_maximum_qty=100
carriers/flatrate dws: active@dw=1; name=Fixed; title=Flat Rate; price@dw=5.00; type@dw=I; handling_type@dw=F; handling_fee@dw; specificerrmsg=This shipping method is not available. To use this shipping method, please contact us.; sallowspecific@dw=0; specificcountry@dw; showmethod@dw=0; sort_order@dw
carriers/tablerate dws: active@dw=0; name=Table Rate; title=Best Way; condition_name@dw=package_weight; include_virtual_price@dw=1; handling_type@dw=F; handling_fee@dw; specificerrmsg=This shipping method is not available. To use this shipping method, please contact us.; sallowspecific@dw=0; specificcountry@dw; showmethod@dw=0; sort_order@dw
carriers/freeshipping dws: active@dw=0; name=Free; title=Free Shipping; free_shipping_subtotal@dw; tax_including@dw=0; specificerrmsg=This shipping method is not available. To use this shipping method, please contact us.; sallowspecific@dw=0; specificcountry@dw; showmethod@dw=0; sort_order@dw
carriers/ups dws: active@dw=0; type@dw=UPS_REST; title=United Parcel Service; username@dw!; password@dw!; access_license_number@dw!; shipper_number@dw!; is_account_live@dw=0; mode_xml@dw=1; origin_shipment@dw=Shipments Originating in United States; pickup@dw=CC; container@dw=CP; dest_type@dw=RES; unit_of_measure@dw=LBS; max_package_weight@dw=150; allowed_methods@dw=1DM,1DML,1DA,1DAL,1DAPI,1DP,1DPL,2DM,2DML,2DA,2DAL,3DS,GND,GNDCOM,GNDRES,STD,XPR,WXS,XPRL,XDM,XDML,XPD; free_method@dw=GND; handling_type@dw=F; handling_fee@dw; specificerrmsg; sallowspecific@dw=0; specificcountry@dw; showmethod@dw=0; debug@dw=0; sort_order@dw
carriers/usps dws: active@dw=0; userid@dw!; password@dw!; client_id@dw!; client_secret@dw!; gateway_url@dw=https://production.shippingapis.com/ShippingAPI.dll; title=United States Postal Service; container@dw=VARIABLE; size@dw=REGULAR; machinable@dw=true; allowed_methods@dw; free_method@dw; handling_type@dw=F; handling_fee@dw; specificerrmsg; sallowspecific@dw=0; specificcountry@dw; showmethod@dw=0; debug@dw=0; sort_order@dw
carriers/fedex dws: active@dw=0; account@dw!; api_key@dw!; secret_key@dw!; sandbox_mode@dw=0; title=Federal Express; dropoff@dw=REGULAR_PICKUP; packaging@dw=YOUR_PACKAGING; unit_of_measure@dw=LB; max_package_weight@dw=150; residence_delivery@dw=0; allowed_methods@dw; free_method@dw=FEDEX_GROUND; handling_type@dw=F; handling_fee@dw; specificerrmsg; sallowspecific@dw=0; specificcountry@dw; showmethod@dw=0; debug@dw=0; sort_order@dw
carriers/dhl dws: active@dw=0; id@dw!; password@dw!; account@dw!; gateway_url@dw=https://xmlpi-ea.dhl.com/XMLShippingServlet; title=DHL; content_type@dw=N; unit_of_measure@dw=K; size@dw=0; doc_methods@dw; nondoc_methods@dw; ready_time@dw; specificerrmsg; sallowspecific@dw=0; specificcountry@dw; showmethod@dw=0; debug@dw=0; sort_order@dw
payment/checkmo dws: active@dw=1; title=Check / Money order; order_status@dw=pending; payable_to; mailing_address; allowspecific@dw=0; specificcountry@dw; min_order_total@dw; max_order_total@dw; sort_order@dw
payment/banktransfer dws: active@dw=0; title=Bank Transfer Payment; order_status@dw=pending; instructions; allowspecific@dw=0; specificcountry@dw; min_order_total@dw; max_order_total@dw; sort_order@dw
payment/cashondelivery dws: active@dw=0; title=Cash On Delivery; order_status@dw=pending; instructions; allowspecific@dw=0; specificcountry@dw; min_order_total@dw; max_order_total@dw; sort_order@dw
payment/purchaseorder dws: active@dw=0; title=Purchase Order; order_status@dw=pending; allowspecific@dw=0; specificcountry@dw; min_order_total@dw; max_order_total@dw; sort_order@dw
payment/free dws: active@dw=1; title=No Payment Information Required; order_status@dw=pending; payment_action@dw=authorize_capture; allowspecific@dw=0; specificcountry@dw; sort_order@dw=1
payment/companycredit dws: active@dw=0; title=Payment on Account; order_status@dw=pending; allowspecific@dw=0; specificcountry@dw; min_order_total@dw; max_order_total@dw; sort_order@dw
payment/braintree dws: active@dw=0; title=Credit Card (Braintree); environment@dw=sandbox; payment_action@dw=authorize; merchant_id@dw; public_key@dw!; private_key@dw!; sandbox_merchant_id@dw; sandbox_public_key@dw!; sandbox_private_key@dw!; merchant_account_id; fraudprotection@dw=0; useccv@dw=1; cctypes@dw=AE,VI,MC,DI,JCB,CUP,DN,MI; allowspecific@dw=0; specificcountry@dw; debug@dw=0; sort_order@dw
payment/payflowpro dws: active@dw=0; title=Credit Card; partner@dw; user@dw!; vendor@dw; pwd@dw!; sandbox_flag@dw=0; use_proxy@dw=0; payment_action@dw=Authorization; cctypes@dw=AE,VI; useccv@dw=1; allowspecific@dw=0; specificcountry@dw; debug@dw=0; sort_order@dw
payment/paypal_express dws: active@dw=0; title=PayPal Express Checkout; payment_action@dw=Authorization; in_context@dw=0; merchant_id@dw; solution_type@dw=Mark; line_items_enabled@dw=1; allowspecific@dw=0; specificcountry@dw; sort_order@dw
paypal/wpp dw: api_authentication=0; api_username!; api_password!; api_signature!; api_cert!; sandbox_flag=0; use_proxy=0; proxy_host; proxy_port
paypal/general dw: merchant_country; business_account
tax/classes d: shipping_tax_class=0; default_product_tax_class=2; default_customer_tax_class=3; wrapping_tax_class
tax/calculation dw: algorithm=TOTAL_BASE_CALCULATION; based_on=shipping; price_includes_tax=0; shipping_includes_tax=0; apply_after_discount=0; discount_tax=0; apply_tax_on=0; cross_border_trade_enabled=0
tax/defaults dw: country=US; region=0; postcode
tax/display dw: type=1; shipping=1
tax/cart_display dws: price=1; subtotal=1; shipping=1; grandtotal=0; full_summary=0; zero_tax=0; gift_wrapping=1; printed_card=1
tax/sales_display dws: price=1; subtotal=1; shipping=1; grandtotal=0; full_summary=0; zero_tax=0; gift_wrapping=1; printed_card=1
tax/weee dws: enable@dw=0; display_list=1; display=1; display_sales=1; display_email=1; apply_vat@dw=0; include_in_subtotal@dw=0
tax/notification d: ignore_discount=0; ignore_price_display=0; ignore_apply_discount=0; info_url
btob/website_configuration dw: company_active=0; sharedcatalog_active=0; quickorder_active=0; requisition_list_active=0; negotiablequote_active=0; purchaseorder_enabled=0
btob/default_b2b_payment_methods dw: applicable_payment_methods=0; available_payment_methods
btob/default_b2b_shipping_methods dw: applicable_shipping_methods=0; available_shipping_methods
btob/order_approval dw: purchaseorder_active=0
company/general dw: allow_company_registration=1
company/email dws: company_registration; company_registration_copy; company_registration_copy_method=bcc; company_notify_admin_template=company_email_company_notify_admin_template; company_status_change; company_status_change_copy
requisitionlist/general dw: number_requisition_lists=999
sharedcatalog/general dw: apply_to_categories=0
sitemap/generate d: enabled=0; error_email; error_email_identity=general; error_email_template=sitemap_generate_error_email_template; frequency=D; time=00,00,00
sitemap/category dws: changefreq=daily; priority=0.5
sitemap/product dws: changefreq=daily; priority=1; image_include=all
sitemap/page dws: changefreq=daily; priority=0.25
sitemap/search_engines dw: submission_robots=0
google/analytics dws: active=0; account; anonymize=0
google/adwords dws: active=0; conversion_id; conversion_language=en; conversion_format=1; conversion_color=FFFFFF; conversion_label
persistent/options dw: enabled=0; lifetime=31536000; remember_enabled=1; remember_default=1; logout_clear=1; shopping_cart=1
magento_reward/general dw: is_enabled=1; is_enabled_on_front=1; publish_history=1; min_points_balance=0; max_points_balance=0; expiration_days=0; expiry_calculation=static
giftcard/general dws: is_redeemable=1; lifetime; allow_message=1; message_max_length=255
giftcard/email dws: identity=general; template=giftcard_email_template
system/smtp d: disable=0; transport=sendmail; host=localhost; port=25; auth=none; username; password!; ssl=none; set_return_path=0; return_path_email
oauth/access_token_lifetime d: customer=1; admin=4
oauth/consumer d: expiration_period=300; post_maxredirects=0; post_timeout=5
cms/wysiwyg d: enabled=enabled
cms/pagebuilder d: enabled=1; google_maps_api_key!
recaptcha_frontend/type_for dws: customer_login; customer_forgot_password; customer_create; customer_edit; contact; newsletter; product_review; sendfriend; place_order
recaptcha_frontend/type_recaptcha dws: public_key@dw; private_key@dw!; size=normal; theme=light; lang
recaptcha_frontend/type_invisible dws: public_key@dw; private_key@dw!; position=bottomright; theme=light; lang
recaptcha_frontend/type_recaptcha_v3 dws: public_key@dw; private_key@dw!; score_threshold=0.5; position=bottomright; theme=light; lang
"""

_GATEWAYS = ("adyen_cc", "klarna_kp", "stripe_payments", "mollie_methods_creditcard")
_GATEWAY_LINE = (
    "payment/{code} dws: active@dw=0; title; environment@dw=sandbox; merchant_id@dw; api_key@dw!; "
    "merchant_key@dw!; password@dw!; secret@dw!; payment_action@dw=authorize; allowspecific@dw=0; "
    "specificcountry@dw; debug@dw=0; sort_order@dw"
)


def _parse(spec):
    catalog = {}
    for line in spec.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        head, _colon, body = line.partition(": ")
        group, group_scopes = head.split(" ")
        for field_spec in body.split("; "):
            name, eq, default = field_spec.partition("=")
            name = name.strip()
            sensitive = name.endswith("!")
            name = name.rstrip("!")
            name, at, scopes = name.partition("@")
            letters = scopes if at else group_scopes
            path = "%s/%s" % (group, name)
            if path in catalog:
                raise ValueError("duplicate path in catalog: %s" % path)
            catalog[path] = {
                "path": path,
                "scopes": [SCOPE_LETTERS[c] for c in "dws" if c in letters],
                "default": default if eq else None,
                "sensitive": sensitive,
            }
    return catalog


def build_catalog():
    spec = _SPEC + "\n".join(_GATEWAY_LINE.format(code=code) for code in _GATEWAYS)
    return _parse(spec)


CATALOG = build_catalog()
"""path -> {"path", "scopes" (list, in default/website/store order), "default" (str or None), "sensitive"}"""

PATHS = sorted(CATALOG)


def catalog_list():
    """The catalog as a list sorted by path (copies)."""
    return [dict(CATALOG[p], scopes=list(CATALOG[p]["scopes"])) for p in PATHS]
